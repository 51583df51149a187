package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"Apache", "Apache License\n   Version 2.0, January 2004", []string{"Apache-2.0"}},
		{"MIT wrapped and commented", "// Permission is hereby granted, free of\n// charge, to any person ... The above copyright notice and this permission\n// notice shall be included", []string{"MIT"}},
		{"BSD-3", "Redistribution and use in source and binary forms ... Neither the name of", []string{"BSD-3-Clause"}},
		{"BSD-2", "Redistribution and use in source and binary forms ... Redistributions in binary form must reproduce", []string{"BSD-2-Clause"}},
		{"MPL names the GNU licences without being one", "Mozilla Public License Version 2.0 ... GNU Affero General Public License ... GNU Lesser General Public License", []string{"MPL-2.0"}},
		{"LGPL", "GNU LESSER GENERAL PUBLIC LICENSE Version 2.1", []string{"LGPL"}},
		{"GPL", "GNU GENERAL PUBLIC LICENSE Version 3", []string{"GPL"}},
		{"unknown", "All rights reserved.", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, l := range classify(tc.text) {
				got = append(got, l.name)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("classify = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCheckNamesTheFailingModule builds module folders on disk and checks
// that each refused one is named with the reason.
func TestCheckNamesTheFailingModule(t *testing.T) {
	dir := t.TempDir()
	mod := func(name string, files map[string]string) module {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for f, text := range files {
			if err := os.WriteFile(filepath.Join(d, f), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return module{Path: "example.com/" + name, Version: "v1.0.0", Dir: d}
	}
	mods := []module{
		mod("fine", map[string]string{"LICENSE": "Apache License Version 2.0", "license_test.go": "package x"}),
		mod("copyleft", map[string]string{"COPYING": "GNU LESSER GENERAL PUBLIC LICENSE"}),
		mod("none", map[string]string{"README.md": "MIT"}),
		mod("odd", map[string]string{"LICENSE.txt": "You may use this on Tuesdays."}),
	}
	var out, errs bytes.Buffer
	if failed := check(mods, &out, &errs, true); failed != 3 {
		t.Errorf("%d modules fail, want 3:\n%s", failed, errs.String())
	}
	for _, want := range []string{
		"example.com/copyleft@v1.0.0: COPYING: LGPL is not compatible with Apache-2.0",
		"example.com/none@v1.0.0: no licence file",
		"example.com/odd@v1.0.0: LICENSE.txt: no rule",
	} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("errors lack %q:\n%s", want, errs.String())
		}
	}
	if !strings.Contains(out.String(), "example.com/fine@v1.0.0") || strings.Contains(errs.String(), "example.com/fine") {
		t.Errorf("the Apache module is not passed:\nout %s\nerrs %s", out.String(), errs.String())
	}
}
