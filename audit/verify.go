package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/gitward/gitward/report/markdown"
	"sort"
	"strings"
)

// LedgerCommit is one commit of a ledger branch as git holds it.
type LedgerCommit struct {
	SHA     string
	Parents []string
	Message string
	// Changes are what the commit changed against its first parent; for
	// the root commit, every file it holds.
	Changes []PathChange
	// Files holds the content of every path the commit added or modified.
	Files map[string][]byte
}

// PathChange is one changed path. Status is git's letter: "A" added, "M"
// modified, "D" deleted, "T" type changed.
type PathChange struct {
	Status string
	Path   string
}

// Stored is a record as found in a ledger.
type Stored struct {
	Record
	Path string
	Hash string
	// Commit is the ledger commit that added the record.
	Commit string
}

// Finding is one way a ledger fails verification, in words that say
// exactly which record or commit and what is wrong with it.
type Finding string

// Verification is what VerifyLedger found.
type Verification struct {
	// Records are the records that read, in ledger order.
	Records []Stored
	// Findings are the problems, in the order they were found.
	Findings []Finding
}

// Tip is the last record in ledger order, or nil for an empty ledger.
func (v *Verification) Tip() *Stored {
	if len(v.Records) == 0 {
		return nil
	}
	return &v.Records[len(v.Records)-1]
}

// VerifyLedger checks a ledger's history, oldest commit first along the
// first-parent chain: that it is linear and starts with a root commit,
// that each commit adds exactly one record (with its subject and
// latest.json) and changes nothing else, that each record reads under the
// schema, is stored in its canonical encoding under its own name and
// hashes to what its commit says, and that the records are numbered
// without gaps, in order, each linking by hash to its predecessor.
func VerifyLedger(commits []LedgerCommit) Verification {
	var v Verification
	add := func(format string, args ...any) {
		v.Findings = append(v.Findings, Finding(fmt.Sprintf(format, args...)))
	}
	pathRecord := map[string]*Stored{}
	subjects := map[string]int{}

	for i, c := range commits {
		id := markdown.Short(c.SHA)
		switch {
		case i == 0 && len(c.Parents) != 0:
			add("the ledger's first commit %s has a parent: a ledger starts with a root commit, so history was grafted onto it", id)
		case i > 0 && len(c.Parents) != 1:
			add("ledger commit %s has %d parents: the ledger must be one linear chain", id, len(c.Parents))
		}
		var added []string
		for _, ch := range c.Changes {
			dir, _, _ := strings.Cut(ch.Path, "/")
			switch {
			case dir == RecordsDir && strings.Contains(ch.Path, "/") && ch.Status == "A":
				added = append(added, ch.Path)
			case dir == RecordsDir && strings.Contains(ch.Path, "/"):
				what := ch.Path
				if s := pathRecord[ch.Path]; s != nil {
					what = s.Describe()
				}
				verb := "changes"
				if ch.Status == "D" {
					verb = "deletes"
				}
				add("ledger commit %s %s %s after it was written", id, verb, what)
			case dir == SubjectsDir && strings.Contains(ch.Path, "/") && ch.Status == "A":
			case dir == SubjectsDir && strings.Contains(ch.Path, "/"):
				add("ledger commit %s changes %s after it was written", id, ch.Path)
			case ch.Path == LatestFile && ch.Status != "D":
			default:
				add("ledger commit %s writes %s, which is not part of the ledger", id, ch.Path)
			}
		}
		sort.Strings(added)
		switch len(added) {
		case 0:
			add("ledger commit %s adds no record", id)
			continue
		case 1:
		default:
			add("ledger commit %s adds %d records; a ledger commit holds one", id, len(added))
		}
		for _, path := range added {
			s, ok := readRecord(c, path, add)
			if !ok {
				continue
			}
			pathRecord[path] = s
			if first, dup := subjects[s.Subject()]; dup {
				add("%s records %s again (first in record %s)", s.Describe(), s.what(), SeqName(first))
			} else {
				subjects[s.Subject()] = s.Seq
			}
			v.Records = append(v.Records, *s)
		}
	}
	v.Findings = append(v.Findings, chain(v.Records)...)
	return v
}

// readRecord reads, checks and hashes one record a commit adds.
func readRecord(c LedgerCommit, path string, add func(string, ...any)) (*Stored, bool) {
	id := markdown.Short(c.SHA)
	raw := c.Files[path]
	canonical, newline := bytes.CutSuffix(raw, []byte("\n"))
	rec, err := Decode(canonical)
	if err != nil {
		add("%s (added by ledger commit %s) is not a valid %s record: %v", path, id, Schema, err)
		return nil, false
	}
	s := &Stored{Record: rec, Path: path, Hash: Hash(canonical), Commit: c.SHA}
	desc := s.Describe()
	if err := rec.Validate(); err != nil {
		add("%s breaks the schema: %v", desc, err)
	}
	if enc, err := Encode(rec); err != nil || !bytes.Equal(enc, canonical) || !newline {
		add("%s was edited: %s is not in the canonical form gitward writes", desc, path)
	}
	if want := RecordPath(&rec); path != want {
		add("%s is stored as %s, not %s", desc, path, want)
	}
	switch h := trailer(c.Message, TrailerHash); {
	case h == "":
		add("ledger commit %s does not name the hash of %s", id, desc)
	case h != s.Hash:
		add("%s was changed after it was written: it does not hash to the %s ledger commit %s recorded", desc, h, id)
	}
	subject := SubjectsDir + "/" + rec.Subject()
	if got, ok := c.Files[subject]; !ok || string(got) != path+"\n" {
		add("ledger commit %s does not map %s to %s", id, subject, path)
	}
	var latest Latest
	raw, ok := c.Files[LatestFile]
	if err := json.Unmarshal(raw, &latest); !ok || err != nil || latest != (Latest{Seq: rec.Seq, Path: path, Hash: s.Hash}) {
		add("%s at ledger commit %s does not name %s and its hash", LatestFile, id, desc)
	}
	return s, true
}

// chain checks numbering, order and hash links of records in ledger order.
func chain(records []Stored) []Finding {
	var out []Finding
	add := func(format string, args ...any) { out = append(out, Finding(fmt.Sprintf(format, args...))) }
	bySeq := map[int]*Stored{}
	for i := range records {
		s := &records[i]
		if first, dup := bySeq[s.Seq]; dup {
			add("record %s appears twice in the ledger, added by commits %s and %s", SeqName(s.Seq), markdown.Short(first.Commit), markdown.Short(s.Commit))
			continue
		}
		bySeq[s.Seq] = s
	}
	// Gaps in the numbering: each run of missing records is named with
	// the record after it, whose prev_hash points at one of them.
	high := 0
	for _, s := range records {
		high = max(high, s.Seq)
	}
	var missing []int
	for q := 1; q <= high; q++ {
		if _, ok := bySeq[q]; ok {
			if len(missing) > 0 {
				add("%s removed: %s links to a record that is not in the ledger", seqRange(missing), SeqName(q))
				missing = nil
			}
			continue
		}
		missing = append(missing, q)
	}
	reordered := map[[2]int]bool{}
	high = 0
	for i := range records {
		s := &records[i]
		switch {
		case s.Seq > high+1:
			for q := high + 1; q < s.Seq; q++ {
				if other, ok := bySeq[q]; ok {
					reordered[[2]int{s.Seq, q}] = true
					add("records were reordered: %s comes before %s in the ledger", s.Describe(), other.Describe())
				}
			}
		case s.Seq <= high && bySeq[s.Seq] == s:
			if !reordered[[2]int{high, s.Seq}] {
				add("records were reordered: %s comes after %s in the ledger", s.Describe(), bySeq[high].Describe())
			}
		}
		high = max(high, s.Seq)
		if s.Seq > 1 {
			if pred, ok := bySeq[s.Seq-1]; ok && s.PrevHash != pred.Hash {
				add("%s: prev_hash does not match record %s", s.Describe(), SeqName(s.Seq-1))
			}
		}
	}
	return out
}

// seqRange names removed records: "record 000043 was", "records 000043 to
// 000045 were", or a list.
func seqRange(seqs []int) string {
	if len(seqs) == 1 {
		return "record " + SeqName(seqs[0]) + " was"
	}
	contiguous := seqs[len(seqs)-1]-seqs[0] == len(seqs)-1
	if contiguous {
		return fmt.Sprintf("records %s to %s were", SeqName(seqs[0]), SeqName(seqs[len(seqs)-1]))
	}
	names := make([]string, len(seqs))
	for i, q := range seqs {
		names[i] = SeqName(q)
	}
	return "records " + strings.Join(names, ", ") + " were"
}

// trailer returns the value of a "Key: value" line of a commit message.
func trailer(msg, key string) string {
	for _, line := range strings.Split(msg, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Coverage checks that every first-parent commit of branch is covered by
// a record about branch. commits are the branch's first-parent commits,
// oldest first. When fromStart is false the check begins at the oldest
// commit a record covers — the history before gitward recorded anything is
// not its to account for — and a branch no record covers at all is one
// finding. It also returns how many commits it checked.
func Coverage(records []Stored, branch string, commits []string, fromStart bool) ([]Finding, int) {
	covered := map[string]bool{}
	for _, s := range records {
		if s.Branch != branch {
			continue
		}
		for _, sha := range s.Covers {
			covered[sha] = true
		}
	}
	start := 0
	if !fromStart {
		start = -1
		for i, sha := range commits {
			if covered[sha] {
				start = i
				break
			}
		}
		if start < 0 {
			if len(commits) == 0 {
				return nil, 0
			}
			return []Finding{Finding(fmt.Sprintf("no record covers any commit on %s: the ledger says nothing about this branch (is --default-branch right?)", branch))}, len(commits)
		}
	}
	var out []Finding
	for _, sha := range commits[start:] {
		if !covered[sha] {
			out = append(out, Finding(fmt.Sprintf("commit %s on %s is covered by no record", markdown.Short(sha), branch)))
		}
	}
	return out, len(commits) - start
}
