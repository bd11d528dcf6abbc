//! The open-file limit: a node holds a socket per peer, per worker and per client of its
//! dashboard and API, plus its store and logs. Linux starts processes with a soft limit of
//! 1024 open files while allowing far more (the hard limit), so `qnode run` raises the soft
//! limit to the hard one at start.

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Raises the soft limit on open files to the hard limit; the limits after (soft, hard),
/// or `None` when they cannot be read or changed (logged, and the node goes on).
pub fn raise_open_file_limit() -> Option<(u64, u64)> {
    let (soft, hard) = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok(limits) => limits,
        Err(e) => {
            tracing::warn!("cannot read the open-file limit: {e}");
            return None;
        }
    };
    if soft >= hard {
        tracing::debug!(soft, hard, "open-file limit already at its hard limit");
        return Some((soft, hard));
    }
    match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
        Ok(()) => {
            tracing::debug!(old = soft, new = hard, "raised the open-file soft limit");
            Some((hard, hard))
        }
        Err(e) => {
            tracing::warn!(soft, hard, "cannot raise the open-file soft limit: {e}");
            Some((soft, hard))
        }
    }
}

/// Makes room for `needed` open files: the soft limit raised to the hard one, and the
/// hard one raised too when it is lower (which only a privileged process may do). An
/// error that says what to do when that is not enough.
pub fn ensure_open_files(needed: u64) -> anyhow::Result<()> {
    let (soft, hard) = raise_open_file_limit().unwrap_or((0, 0));
    if soft >= needed {
        return Ok(());
    }
    setrlimit(Resource::RLIMIT_NOFILE, needed, needed.max(hard)).map_err(|e| {
        anyhow::anyhow!(
            "this needs about {needed} open files and the limit is {soft} (raising it: {e}); \
             raise it with `ulimit -n {needed}` (or the hard limit in \
             /etc/security/limits.conf), or run fewer peers"
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_limit() {
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        // Start below the hard limit (lowering is always allowed), so the raise shows.
        setrlimit(Resource::RLIMIT_NOFILE, hard.saturating_sub(1).max(1), hard).unwrap();
        assert_ne!(getrlimit(Resource::RLIMIT_NOFILE).unwrap().0, hard);
        assert_eq!(raise_open_file_limit(), Some((hard, hard)));
        assert_eq!(getrlimit(Resource::RLIMIT_NOFILE).unwrap(), (hard, hard));
        // Again: nothing to raise.
        assert_eq!(raise_open_file_limit(), Some((hard, hard)));
    }
}
