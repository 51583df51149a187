package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gitward/gitward/report/markdown"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/gitward/gitward/forge"
)

// The ledger is a branch of the repository (gitward/audit by default)
// whose history is one linear chain of commits, one record per commit. The
// first commit is a root commit: the branch shares no history with the
// code. Its tree holds
//
//	records/000042-pr-17.json   one file per record, its canonical encoding and a newline
//	subjects/pr-17              the path of the record about a subject, so a
//	                            subject is recorded once however often its event arrives
//	latest.json                 the sequence number, path and hash of the last record
//
// and each commit adds one record and its subject and rewrites latest.json.
// Records chain by the SHA-256 of their predecessor (Record.PrevHash), so
// the chain holds independently of git's own hashes; each commit message
// names the hash of the record it adds.
const (
	// DefaultBranch is where the ledger lives unless the repository's
	// configuration names another branch.
	DefaultBranch = "gitward/audit"
	// RecordsDir holds the records.
	RecordsDir = "records"
	// SubjectsDir maps each subject to its record.
	SubjectsDir = "subjects"
	// LatestFile names the last record.
	LatestFile = "latest.json"
)

// RecordPath is where a record is stored.
func RecordPath(r *Record) string {
	return RecordsDir + "/" + SeqName(r.Seq) + "-" + r.Subject() + ".json"
}

// Latest is the content of latest.json.
type Latest struct {
	Seq  int    `json:"seq"`
	Path string `json:"path"`
	Hash string `json:"hash"`
}

// Commit message trailers of a ledger commit.
const (
	TrailerRecord = "Record: "
	TrailerHash   = "Record-Hash: "
)

// message is the ledger commit message for a record.
func message(r *Record, path, hash string) string {
	var what string
	switch r.Kind {
	case KindMerge:
		what = fmt.Sprintf("PR #%d merged into %s", r.PullRequest.Number, r.Branch)
	case KindUnreviewed:
		what = fmt.Sprintf("unreviewed push to %s (%d commits)", r.Branch, len(r.Covers))
	case KindRetroactive:
		what = fmt.Sprintf("PR #%d approved retroactively", r.PullRequest.Number)
	}
	return fmt.Sprintf("audit: record %s, %s\n\n%s%s\n%s%s\n", SeqName(r.Seq), what, TrailerRecord, path, TrailerHash, hash)
}

// Errors of Append.
var (
	// ErrRewound reports that the ledger branch points at a commit that
	// does not descend from the head this process last saw there, or
	// keeps pointing at an earlier one however often it is read again:
	// someone moved it backwards or rewrote it, and appending would fork
	// the chain.
	ErrRewound = errors.New("the ledger branch moved backwards")
	// ErrContended reports that every attempt lost the compare-and-swap.
	ErrContended = errors.New("the ledger branch kept moving")
	// ErrCorrupt reports a ledger whose last record does not read back as
	// the ledger wrote it.
	ErrCorrupt = errors.New("the ledger is corrupt")
)

// Ledger appends records to a repository's ledger branch through the
// forge's Git Data API. It is safe for concurrent use, and any number of
// gitward replicas may append to one ledger: each append is a
// compare-and-swap on the branch, retried on conflict.
type Ledger struct {
	// Branch is the ledger branch; "" means DefaultBranch.
	Branch string
	// Attempts bounds the compare-and-swap attempts; zero means 8.
	Attempts int
	// Backoff is the longest first wait after a lost race, doubled after
	// each; every wait is drawn at random up to it, so racing writers
	// spread out. Zero means 200ms.
	Backoff time.Duration
	// Now stamps RecordedAt when a record has none; nil means time.Now.
	Now func() time.Time
	// Marks remembers the furthest ledger head seen on each ledger, to
	// refuse appending to a branch that was moved backwards. Share one
	// between ledgers of the same process; nil keeps no memory between
	// appends.
	Marks *Marks
}

// Marks remembers, per repository and ledger branch, the furthest ledger
// head this process read or wrote. The zero value is ready to use.
type Marks struct {
	mu   sync.Mutex
	seen map[string]mark
}

// mark is a ledger head: its commit and the last record it holds.
type mark struct {
	commit string
	last   Latest
}

func (m *Marks) get(key string) (mark, bool) {
	if m == nil {
		return mark{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, ok := m.seen[key]
	return prev, ok
}

// note remembers a head that was checked to descend from the one noted
// before; of two heads noted concurrently the further one stays.
func (m *Marks) note(key string, head mark) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]mark{}
	}
	if prev, ok := m.seen[key]; !ok || head.last.Seq >= prev.last.Seq {
		m.seen[key] = head
	}
}

// maxWalk bounds how many ledger commits an ancestry check walks through
// the forge; a longer gap is bridged by comparing the records themselves.
const maxWalk = 64

// staleError is a read of the ledger head that is older than one seen
// before. Append reads again; final is reported if every read is stale.
type staleError struct{ final error }

func (e *staleError) Error() string { return e.final.Error() }

// vouch checks a ledger head read from the forge against the furthest
// head this process saw: it must be that head or descend from it. A head
// the seen one descends from is a stale read (*staleError: read again);
// any other head was rewound or rewritten (ErrRewound). head is "" for a
// branch that was not found. A head that passes is remembered.
func (l *Ledger) vouch(ctx context.Context, f forge.Forge, repo forge.Repo, key, head string, last Latest) error {
	prev, ok := l.Marks.get(key)
	if !ok {
		if head != "" {
			l.Marks.note(key, mark{commit: head, last: last})
		}
		return nil
	}
	if head == "" {
		// A branch just started may not be visible yet; one that stays
		// missing was deleted.
		return &staleError{final: fmt.Errorf("%w: it held record %s at commit %s and now does not exist; appending would start a second chain, so nothing was written: run gitward audit verify and restore the branch",
			ErrRewound, SeqName(prev.last.Seq), markdown.Short(prev.commit))}
	}
	cur := mark{commit: head, last: last}
	older, newer := prev, cur
	if last.Seq < prev.last.Seq {
		older, newer = cur, prev
	}
	linked, err := descends(ctx, f, repo, newer, older)
	if err != nil {
		return err
	}
	switch {
	case !linked:
		return fmt.Errorf("%w: it held record %s at commit %s and now holds record %s at commit %s, which does not descend from it; appending would fork the chain, so nothing was written: run gitward audit verify and restore the branch",
			ErrRewound, SeqName(prev.last.Seq), markdown.Short(prev.commit), SeqName(last.Seq), markdown.Short(head))
	case newer == prev && older != prev:
		return &staleError{final: fmt.Errorf("%w: it held record %s at commit %s and, read again and again, still holds the earlier record %s at commit %s; appending would fork the chain, so nothing was written: run gitward audit verify and restore the branch",
			ErrRewound, SeqName(prev.last.Seq), markdown.Short(prev.commit), SeqName(last.Seq), markdown.Short(head))}
	}
	l.Marks.note(key, cur)
	return nil
}

// descends reports whether ledger head newer descends from ledger head
// older (or is it). Each ledger commit adds one record, so newer's first
// parents reach older after exactly the difference of their record
// numbers; that walk is asked of the forge. A gap longer than maxWalk is
// bridged instead by the record itself: newer must hold older's last
// record unchanged, which the hash chain then ties to everything before.
func descends(ctx context.Context, f forge.Forge, repo forge.Repo, newer, older mark) (bool, error) {
	steps := newer.last.Seq - older.last.Seq
	if steps > maxWalk {
		data, err := f.File(ctx, repo, newer.commit, older.last.Path)
		if errors.Is(err, forge.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read %s of the ledger at %s: %w", older.last.Path, markdown.Short(newer.commit), err)
		}
		return Hash([]byte(strings.TrimSuffix(string(data), "\n"))) == older.last.Hash, nil
	}
	sha := newer.commit
	for i := 0; i < steps; i++ {
		c, err := f.Commit(ctx, repo, sha)
		if err != nil {
			return false, fmt.Errorf("read ledger commit %s: %w", markdown.Short(sha), err)
		}
		if len(c.Parents) != 1 {
			return false, nil
		}
		sha = c.Parents[0]
	}
	return sha == older.commit, nil
}

// Entry is a record in a ledger.
type Entry struct {
	Seq  int
	Path string
	// Hash is the record's hash, which the next record links to.
	Hash string
	// Commit is the ledger commit that added it.
	Commit string
	// Existing is set when the subject was recorded before, by an earlier
	// delivery of the same event; nothing was written.
	Existing bool
}

func (l *Ledger) branch() string {
	if l.Branch == "" {
		return DefaultBranch
	}
	return l.Branch
}

// Append adds rec to the repository's ledger and returns where it landed.
// It fills in the schema, the sequence number and the previous record's
// hash, and scrubs the record's free text. It reads the branch head (a
// missing branch is started with a root commit), the last record, and
// writes one commit on top with a compare-and-swap; when another writer
// got there first it reads again and retries, after a random wait, so
// concurrent appends form one linear chain. A subject recorded before is
// not recorded again. A head older than one this process saw is taken
// for a stale read and read again; one that stays older, or that does
// not descend from the one seen, is refused with ErrRewound. A written
// commit whose parent is not the head that was read is ErrCorrupt.
func (l *Ledger) Append(ctx context.Context, f forge.Forge, repo forge.Repo, rec Record) (Entry, error) {
	branch := l.branch()
	key := repo.String() + "@" + branch
	attempts := l.Attempts
	if attempts <= 0 {
		attempts = 8
	}
	wait := l.Backoff
	if wait <= 0 {
		wait = 200 * time.Millisecond
	}
	rec.Schema = Schema
	if rec.RecordedAt.IsZero() {
		now := time.Now
		if l.Now != nil {
			now = l.Now
		}
		rec.RecordedAt = now()
	}
	rec.scrub()

	for attempt := 1; ; attempt++ {
		entry, err := l.appendOnce(ctx, f, repo, branch, key, rec)
		var stale *staleError
		switch {
		case errors.As(err, &stale) && attempt >= attempts:
			return Entry{}, fmt.Errorf("ledger %s of %s: %w", branch, repo.FullName(), stale.final)
		case errors.As(err, &stale):
		case !errors.Is(err, forge.ErrConflict):
			return entry, err
		case attempt >= attempts:
			return Entry{}, fmt.Errorf("append %s to %s: %w: %d attempts lost the race to other writers", rec.what(), branch, ErrContended, attempts)
		}
		select {
		case <-ctx.Done():
			return Entry{}, ctx.Err()
		case <-time.After(rand.N(wait) + time.Millisecond):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// appendOnce makes one attempt; forge.ErrConflict means try again.
func (l *Ledger) appendOnce(ctx context.Context, f forge.Forge, repo forge.Repo, branch, key string, rec Record) (Entry, error) {
	head, err := f.BranchHead(ctx, repo, branch)
	genesis := errors.Is(err, forge.ErrNotFound)
	if err != nil && !genesis {
		return Entry{}, fmt.Errorf("read the ledger branch %s: %w", branch, err)
	}
	subject := SubjectsDir + "/" + rec.Subject()
	rec.Seq, rec.PrevHash = 1, ""
	if !genesis {
		if path, err := f.File(ctx, repo, head, subject); err == nil {
			return l.existing(ctx, f, repo, head, strings.TrimSpace(string(path)))
		} else if !errors.Is(err, forge.ErrNotFound) {
			return Entry{}, fmt.Errorf("look up %s in the ledger: %w", subject, err)
		}
		last, err := l.last(ctx, f, repo, head)
		if err != nil {
			return Entry{}, err
		}
		if err := l.vouch(ctx, f, repo, key, head, last); err != nil {
			return Entry{}, fmt.Errorf("ledger %s of %s: %w", branch, repo.FullName(), err)
		}
		rec.Seq, rec.PrevHash = last.Seq+1, last.Hash
	} else if err := l.vouch(ctx, f, repo, key, "", Latest{}); err != nil {
		return Entry{}, fmt.Errorf("ledger %s of %s: %w", branch, repo.FullName(), err)
	}

	st, err := Stage(rec)
	if err != nil {
		return Entry{}, err
	}
	bc := forge.BranchCommit{Branch: branch, Message: st.Message, Files: st.Files}
	var sha string
	if genesis {
		sha, err = f.StartBranch(ctx, repo, bc)
	} else {
		bc.ExpectedHead = head
		sha, err = f.CommitToBranch(ctx, repo, bc)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("write %s to %s: %w", rec.Describe(), branch, err)
	}
	// The commit must sit on the head that was read: its record links to
	// that head's record. A forge that wrote it elsewhere forked the chain.
	written, err := f.Commit(ctx, repo, sha)
	if err != nil {
		return Entry{}, fmt.Errorf("read back ledger commit %s: %w", markdown.Short(sha), err)
	}
	want := []string{}
	if !genesis {
		want = []string{head}
	}
	if len(written.Parents) != len(want) || len(want) == 1 && written.Parents[0] != head {
		return Entry{}, fmt.Errorf("%w: ledger commit %s for %s has parents %v, not the head %s it was written on",
			ErrCorrupt, markdown.Short(sha), rec.Describe(), written.Parents, markdown.Short(head))
	}
	l.Marks.note(key, mark{commit: sha, last: Latest{Seq: rec.Seq, Path: st.Path, Hash: st.Hash}})
	return Entry{Seq: rec.Seq, Path: st.Path, Hash: st.Hash, Commit: sha}, nil
}

// Staged is a record ready to be committed to a ledger.
type Staged struct {
	Record Record
	// Path and Hash are where the record is stored and its hash.
	Path, Hash string
	// Message and Files are the ledger commit that adds it.
	Message string
	Files   []forge.FileChange
}

// Stage encodes a record whose Seq and PrevHash are set, checks it against
// the schema, and lays out the ledger commit that adds it.
func Stage(rec Record) (Staged, error) {
	data, err := Encode(rec)
	if err != nil {
		return Staged{}, err
	}
	if err := rec.Validate(); err != nil {
		return Staged{}, fmt.Errorf("%s is not a valid record: %w", rec.Describe(), err)
	}
	path, hash := RecordPath(&rec), Hash(data)
	latest, _ := json.Marshal(Latest{Seq: rec.Seq, Path: path, Hash: hash})
	latest, _ = Canonical(latest)
	return Staged{
		Record: rec, Path: path, Hash: hash,
		Message: message(&rec, path, hash),
		Files: []forge.FileChange{
			{Path: path, Content: append(data, '\n')},
			{Path: SubjectsDir + "/" + rec.Subject(), Content: []byte(path + "\n")},
			{Path: LatestFile, Content: append(latest, '\n')},
		},
	}, nil
}

// Chain numbers records from 1 and links each to its predecessor, as
// appending them one by one would, and stages each.
func Chain(recs []Record) ([]Staged, error) {
	out := make([]Staged, 0, len(recs))
	prev := ""
	for i, rec := range recs {
		rec.Schema, rec.Seq, rec.PrevHash = Schema, i+1, prev
		rec.scrub()
		st, err := Stage(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
		prev = st.Hash
	}
	return out, nil
}

// last reads and checks the record latest.json names at head.
func (l *Ledger) last(ctx context.Context, f forge.Forge, repo forge.Repo, head string) (Latest, error) {
	raw, err := f.File(ctx, repo, head, LatestFile)
	if err != nil {
		return Latest{}, fmt.Errorf("read %s of the ledger at %s: %w", LatestFile, markdown.Short(head), err)
	}
	var latest Latest
	if err := json.Unmarshal(raw, &latest); err != nil || latest.Seq < 1 || latest.Path == "" {
		return Latest{}, fmt.Errorf("%w: %s at %s does not name a record", ErrCorrupt, LatestFile, markdown.Short(head))
	}
	data, err := f.File(ctx, repo, head, latest.Path)
	if err != nil {
		return Latest{}, fmt.Errorf("read the last record %s at %s: %w", latest.Path, markdown.Short(head), err)
	}
	canonical := []byte(strings.TrimSuffix(string(data), "\n"))
	prev, err := Decode(canonical)
	switch {
	case err != nil:
		return Latest{}, fmt.Errorf("%w: the last record %s does not read: %v", ErrCorrupt, latest.Path, err)
	case prev.Seq != latest.Seq:
		return Latest{}, fmt.Errorf("%w: %s names record %s but %s holds %s", ErrCorrupt, LatestFile, SeqName(latest.Seq), latest.Path, SeqName(prev.Seq))
	case Hash(canonical) != latest.Hash:
		return Latest{}, fmt.Errorf("%w: %s does not hash to what %s says; it was changed after it was written", ErrCorrupt, prev.Describe(), LatestFile)
	}
	return latest, nil
}

// existing returns the entry of a subject recorded before.
func (l *Ledger) existing(ctx context.Context, f forge.Forge, repo forge.Repo, head, path string) (Entry, error) {
	data, err := f.File(ctx, repo, head, path)
	if err != nil {
		return Entry{}, fmt.Errorf("read the existing record %s: %w", path, err)
	}
	canonical := []byte(strings.TrimSuffix(string(data), "\n"))
	prev, err := Decode(canonical)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: the existing record %s does not read: %v", ErrCorrupt, path, err)
	}
	return Entry{Seq: prev.Seq, Path: path, Hash: Hash(canonical), Existing: true}, nil
}

// Lookup returns the record the ledger holds about subject (such as
// "pr-17"), and false when the ledger or the subject does not exist.
func (l *Ledger) Lookup(ctx context.Context, f forge.Forge, repo forge.Repo, subject string) (Stored, bool, error) {
	head, err := l.head(ctx, f, repo)
	if head == "" || err != nil {
		return Stored{}, false, err
	}
	path, err := l.subject(ctx, f, repo, head, subject)
	if path == "" || err != nil {
		return Stored{}, false, err
	}
	st, err := readStored(ctx, f, repo, head, path)
	return st, err == nil, err
}

// Last returns the ledger's head commit and its last record, and false
// when the ledger does not exist yet.
func (l *Ledger) Last(ctx context.Context, f forge.Forge, repo forge.Repo) (head string, last Stored, ok bool, err error) {
	head, err = l.head(ctx, f, repo)
	if head == "" || err != nil {
		return "", Stored{}, false, err
	}
	latest, err := l.last(ctx, f, repo, head)
	if err != nil {
		return "", Stored{}, false, err
	}
	last, err = readStored(ctx, f, repo, head, latest.Path)
	last.Commit = head
	return head, last, err == nil, err
}

// Holds reports whether the ledger at commit head records subject.
func (l *Ledger) Holds(ctx context.Context, f forge.Forge, repo forge.Repo, head, subject string) (bool, error) {
	path, err := l.subject(ctx, f, repo, head, subject)
	return path != "", err
}

// head reads the ledger branch's head; "" when the branch does not exist.
func (l *Ledger) head(ctx context.Context, f forge.Forge, repo forge.Repo) (string, error) {
	head, err := f.BranchHead(ctx, repo, l.branch())
	if errors.Is(err, forge.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the ledger branch %s: %w", l.branch(), err)
	}
	return head, nil
}

// subject returns the path of the record about subject at head; "" when
// there is none.
func (l *Ledger) subject(ctx context.Context, f forge.Forge, repo forge.Repo, head, subject string) (string, error) {
	raw, err := f.File(ctx, repo, head, SubjectsDir+"/"+subject)
	if errors.Is(err, forge.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up %s in the ledger: %w", subject, err)
	}
	return strings.TrimSpace(string(raw)), nil
}

// readStored reads and decodes the record at path.
func readStored(ctx context.Context, f forge.Forge, repo forge.Repo, head, path string) (Stored, error) {
	data, err := f.File(ctx, repo, head, path)
	if err != nil {
		return Stored{}, fmt.Errorf("read the record %s: %w", path, err)
	}
	canonical := []byte(strings.TrimSuffix(string(data), "\n"))
	rec, err := Decode(canonical)
	if err != nil {
		return Stored{}, fmt.Errorf("%w: the record %s does not read: %v", ErrCorrupt, path, err)
	}
	return Stored{Record: rec, Path: path, Hash: Hash(canonical)}, nil
}
