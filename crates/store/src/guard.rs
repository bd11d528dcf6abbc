//! The boundary between qnode and redb's panics.
//!
//! redb verifies page checksums only in its integrity check; its ordinary read paths parse
//! pages with `unreachable!()` and `assert!`, so a page damaged after the check (or one the
//! check does not cover) panics inside the library. Every call into redb runs inside
//! [`run`], which turns such a panic into [`StoreError::Corrupt`] naming the file. While a
//! guarded call runs, the process's panic hook stays quiet for that thread: the operator
//! gets the store's error, not a library backtrace.

use crate::StoreError;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs `f`, turning a panic inside it into a `Corrupt` error for the store at `path`.
pub(crate) fn run<T>(
    path: &Path,
    f: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = GUARDED.with(|g| g.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    result.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "an unreadable page".into());
        Err(StoreError::corrupt(
            path,
            format!("the storage library failed on damaged data ({what})"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_corrupt_error_naming_the_file() {
        let path = Path::new("/some/store.redb");
        let err = run::<()>(path, || panic!("internal error: entered unreachable code"))
            .expect_err("a panic is an error");
        let message = err.to_string();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{message}");
        assert!(message.contains("/some/store.redb"), "{message}");
        assert!(message.contains("unreachable code"), "{message}");
        assert_eq!(run(path, || Ok(7)).expect("no panic"), 7);
    }
}
