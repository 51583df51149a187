package snapshot

import (
	"errors"
	"fmt"
)

// Limits bound what one archive may expand to on disk, so that a hostile or
// broken archive cannot fill the disk or use up its inodes. A zero or
// negative field takes its value from DefaultLimits.
type Limits struct {
	// MaxBytes caps the total size of all files, counted as the bytes
	// actually written rather than the sizes the headers claim.
	MaxBytes int64
	// MaxFiles caps the number of files, folders and symlinks.
	MaxFiles int
	// MaxFileBytes caps the size of any single file.
	MaxFileBytes int64
}

// DefaultLimits returns limits that fit any sensible GitOps repository:
// 512 MiB in total, 100000 files and 64 MiB per file.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 512 << 20, MaxFiles: 100000, MaxFileBytes: 64 << 20}
}

// orDefaults fills zero or negative fields from DefaultLimits.
func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = d.MaxFiles
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	return l
}

var (
	// ErrLimit is matched (errors.Is) by every error that reports an archive
	// over one of its Limits.
	ErrLimit = errors.New("snapshot: archive exceeds a limit")
	// ErrUnsafe is matched (errors.Is) by every error that reports an entry
	// refused for safety: a path or symlink leaving the tree, a hard link,
	// a device, or entries that contradict each other.
	ErrUnsafe = errors.New("snapshot: unsafe archive entry")
)

// archiveError carries a precise message while matching ErrLimit or
// ErrUnsafe.
type archiveError struct {
	kind error
	msg  string
}

func (e *archiveError) Error() string        { return e.msg }
func (e *archiveError) Is(target error) bool { return target == e.kind }

func limitErr(format string, args ...any) error {
	return &archiveError{kind: ErrLimit, msg: fmt.Sprintf(format, args...)}
}

func unsafeErr(format string, args ...any) error {
	return &archiveError{kind: ErrUnsafe, msg: fmt.Sprintf(format, args...)}
}

// size formats a byte count the way limits are usually written.
func size(n int64) string {
	switch {
	case n > 0 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n > 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
