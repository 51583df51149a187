package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration string such as "90s",
// "5m" or "1h30m". It is never negative; 0 (written 0 or "0") means "off"
// where a field says so.
type Duration time.Duration

// durationPattern is the syntax a Duration accepts, shared with the schema.
const durationPattern = `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`

var durationRE = regexp.MustCompile(durationPattern)

// ParseDuration reads a Duration in the syntax the configuration accepts.
func ParseDuration(s string) (Duration, error) {
	if !durationRE.MatchString(s) {
		return 0, fmt.Errorf("invalid duration %q: use a Go duration like 30s, 5m or 1h30m", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: too long", s)
	}
	return Duration(d), nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText formats d like time.Duration does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ByteSize is a size in bytes, written as a plain number of bytes or with a
// unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of
// 1024), like "512MiB".
type ByteSize int64

// byteSizePattern is the string syntax a ByteSize accepts, shared with the schema.
const byteSizePattern = `^[0-9]+ ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$`

var byteSizeRE = regexp.MustCompile(byteSizePattern)

var byteUnits = map[string]int64{
	"": 1, "B": 1,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// ParseByteSize reads a ByteSize such as "25MiB" or "1000".
func ParseByteSize(s string) (ByteSize, error) {
	if !byteSizeRE.MatchString(s) {
		return 0, fmt.Errorf("invalid size %q: use bytes or a unit, like 512MiB or 2GiB", s)
	}
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	n, err := strconv.ParseInt(num, 10, 64)
	mult := byteUnits[unit]
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return ByteSize(n * mult), nil
}

// String formats b with the largest binary unit that divides it, like "25MiB".
func (b ByteSize) String() string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.n == 0 {
			return strconv.FormatInt(int64(b)/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// MarshalText formats b like String.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses a size such as "512MiB".
func (b *ByteSize) UnmarshalText(t []byte) error {
	v, err := ParseByteSize(string(t))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// Secret holds a secret value, such as the GitHub App private key, loaded
// from a file or the environment. Every printed or encoded form — fmt verbs,
// JSON, YAML, text, slog — shows "[redacted]" (or "[unset]"); only Reveal
// returns the value. The value sits behind a pointer so that even reflection
// over an unexported copy shows an address, not the secret.
type Secret struct {
	v *string
}

// NewSecret wraps a value; for tests and callers that obtain secrets elsewhere.
func NewSecret(value string) Secret { return Secret{v: &value} }

// Reveal returns the secret value. Pass it only to the code that uses it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsSet reports whether a non-empty value was loaded.
func (s Secret) IsSet() bool { return s.v != nil && *s.v != "" }

// String returns "[redacted]", or "[unset]" when there is no value.
func (s Secret) String() string {
	if s.IsSet() {
		return "[redacted]"
	}
	return "[unset]"
}

// GoString is String, so %#v redacts too.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON encodes String, so JSON logs (zerolog's Interface included) redact.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText encodes String.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML encodes String.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// LogValue redacts the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
