// Package changecontrol decides the gitward/change-control check: whether a
// pull request may merge under the rules of its base branch's .gitward.yaml.
//
// Evaluate is a pure function from Facts to a Verdict. It calls nothing and
// reads nothing; the caller gathers the facts from the forge (and from its
// own signature verification and secret scan) and publishes the verdict.
// Every rule is listed with its state and a reason a reviewer understands,
// and the check passes only when every rule holds, or when an authorised
// break-glass overrides it, which the verdict says in its title.
//
// MayBreakGlass decides, as purely, whether someone may use /breakglass;
// the caller passes an authorised use in Facts.BreakGlass.
//
// # Rules
//
//   - signed commits: every commit is signed and the signature verifies; with
//     signatures.allowed_signers set, the signer is one of them; commits the
//     forge made and signed in its web interface count only with
//     signatures.allow_web_commits.
//   - separation of duties: the people who wrote the change (see below)
//     cannot approve it, unless separation_of_duties.allow_self_approval.
//     This rule never fails by itself; it names who is excluded, and the
//     approval rules say whose approvals it cost.
//   - approvals: approvals.required approvals from eligible people, and for
//     each approval rule whose paths match a changed file, that rule's
//     required approvals from eligible people among its users and teams.
//   - changes requested: a reviewer with write permission whose latest
//     review requests changes blocks until the review is dismissed or the
//     same reviewer approves.
//   - plaintext secrets: a rendered Secret with data is a failure at its file
//     and line, unless secrets.allowed_paths exempts the file.
//
// # Who may approve
//
// An approval is a review whose latest state is APPROVED, or an /approve
// comment. It counts when its writer is a person (not a bot), has write
// permission or more, is not one of the change's authors, has not withdrawn
// it, and it is bound to the head commit:
//
//   - A review counts only if it was given on the head SHA (with
//     invalidate_on_push off, a review on any earlier commit counts too).
//     A review given on the old head and submitted after a push, the usual
//     race, therefore does not count.
//   - /approve <sha> counts only if sha is (a prefix of at least 7 digits of)
//     the head SHA, whatever invalidate_on_push says: naming a commit pins
//     the approval to it.
//   - A bare /approve counts only if it was written after the head was
//     pushed (Facts.HeadPushedAt). The forge does not say when a commit was
//     pushed, so the caller infers it and must err late (for example the
//     creation of the first check run on that SHA, which follows the push).
//     When the push time is unknown, a bare /approve does not count: the
//     reason tells the reviewer to write /approve <head sha>. With
//     invalidate_on_push off, a bare /approve counts whenever it was written.
//   - An /approve comment that was edited after it was posted does not
//     count; one that was deleted is not in the facts at all. /unapprove
//     withdraws every approval its writer gave before it, reviews included.
//
// # Who wrote the change
//
// The pull request's author, the author of every commit, the committer of
// every commit (with committers_are_authors) and everyone named in a
// Co-authored-by trailer (with co_authors_are_authors). A commit identity
// carries the login the forge linked to it; reading a forge's private
// addresses (123+alice@users.noreply.github.com, 1005-bob@users.noreply
// on GitLab) as logins is the forge adapter's work. A commit identity the
// forge linked to no account is matched to logins two ways: an e-mail equal
// to that of a commit identity linked to a login names that login, and a
// name equal to the login of someone who approved names them. A trailer is
// matched all three ways: the login the forge linked, its e-mail and its
// name.
//
// Trailers are text anyone can write, so a forged "Co-authored-by: bob"
// excludes bob's approval. That is the safe direction: a forged trailer can
// only withhold approvals, never add one. For the same reason authorship
// never silences a "changes requested" review: only a bot account or the
// lack of write permission does.
//
// # Failing closed
//
// Missing facts never make the check pass: with no configuration, no
// commits, an unknown head or an unknown permission, the affected rule
// fails and says what was missing. Approvals that are only pending are a
// failure too, with a "waiting for" reason, because a required check that
// is not green must block the merge.
package policy
