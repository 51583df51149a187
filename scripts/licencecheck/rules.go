package main

import "strings"

// A licence the check can recognise, by phrases its text always contains.
type licence struct {
	name    string
	allowed bool   // compatible with shipping gitward under Apache-2.0
	why     string // for a licence that is not allowed: what is wrong with it
	all     []string
	none    []string // phrases that must be absent (to tell BSD-2 from BSD-3)
}

// licences are the classification rules, checked in order; a file may
// match several (a module can carry more than one licence in one file).
// Phrases are compared case-insensitively with runs of white space and
// comment markers folded into one space.
var licences = []licence{
	{name: "Apache-2.0", allowed: true, all: []string{"apache license", "version 2.0"}},
	{name: "MIT", allowed: true, all: []string{"permission is hereby granted, free of charge", "the above copyright notice and this permission notice shall be included"}},
	{name: "BSD-3-Clause", allowed: true, all: []string{"redistribution and use in source and binary forms", "neither the name"}},
	{name: "BSD-3-Clause", allowed: true, all: []string{"redistribution and use in source and binary forms", "the names of its contributors may not be used"}},
	{name: "BSD-2-Clause", allowed: true, all: []string{"redistribution and use in source and binary forms", "redistributions in binary form must reproduce"},
		none: []string{"neither the name", "names of its contributors may not be used"}},
	{name: "ISC", allowed: true, all: []string{"permission to use, copy, modify, and", "distribute this software for any purpose with or without fee is hereby granted"}},
	// MPL-2.0 is a file-level copyleft: using its files unchanged in a
	// larger work under another licence is allowed (MPL-2.0 section 3.3).
	{name: "MPL-2.0", allowed: true, all: []string{"mozilla public license", "version 2.0"}},
	{name: "CC0-1.0", allowed: true, all: []string{"creative commons", "cc0 1.0 universal"}},
	{name: "Unlicense", allowed: true, all: []string{"this is free and unencumbered software released into the public domain"}},

	{name: "AGPL", why: "strong copyleft over network use", all: []string{"gnu affero general public license"},
		none: mpl},
	{name: "LGPL", why: "copyleft on the library and on works that include it statically, as Go builds do", all: []string{"gnu lesser general public license"},
		none: mpl},
	{name: "LGPL", why: "copyleft on the library and on works that include it statically, as Go builds do", all: []string{"gnu library general public license"},
		none: mpl},
	{name: "GPL", why: "strong copyleft", all: []string{"gnu general public license"},
		none: mpl},
	{name: "SSPL", why: "not an open-source licence", all: []string{"server side public license"}},
	{name: "BUSL", why: "not an open-source licence", all: []string{"business source license"}},
	{name: "Commons Clause", why: "forbids selling the software", all: []string{"commons clause"}},
	{name: "CC-BY-NC", why: "forbids commercial use", all: []string{"noncommercial"}},
}

// mpl marks the Mozilla Public License, whose text names the GNU licences
// as Secondary Licenses without being one of them.
var mpl = []string{"mozilla public license"}

// classify returns the licences whose phrases all occur in text.
func classify(text string) []licence {
	t := fold(text)
	var found []licence
	for _, l := range licences {
		if containsAll(t, l.all) && !containsAny(t, l.none) {
			found = append(found, l)
		}
	}
	return found
}

// fold lowers the case and folds white space and comment markers, so that
// rules match licence texts however they are wrapped or commented.
func fold(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '*' || r == '#' || r == '/'
	})
	return " " + strings.Join(f, " ") + " "
}

func containsAll(t string, phrases []string) bool {
	for _, p := range phrases {
		if !strings.Contains(t, fold(p)[1:len(fold(p))-1]) {
			return false
		}
	}
	return true
}

func containsAny(t string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(t, fold(p)[1:len(fold(p))-1]) {
			return true
		}
	}
	return false
}
