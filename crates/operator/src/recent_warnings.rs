//! The last warnings and errors the node logged, kept for `qnode status` and the
//! dashboard: a `tracing` layer that copies WARN and ERROR events into a small ring.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// How many are kept.
pub const KEPT: usize = 20;

/// One logged warning or error.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Warning {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// `WARN` or `ERROR`.
    pub level: String,
    /// The message and its fields, as the log line has them.
    pub message: String,
}

/// The ring, shared between the layer and whoever shows it.
#[derive(Debug, Default)]
pub struct RecentWarnings {
    ring: Mutex<VecDeque<Warning>>,
}

impl RecentWarnings {
    /// The kept warnings, oldest first.
    pub fn list(&self) -> Vec<Warning> {
        self.ring
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    fn push(&self, warning: Warning) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        if ring.len() == KEPT {
            ring.pop_front();
        }
        ring.push_back(warning);
    }
}

/// The layer feeding a [`RecentWarnings`].
pub struct WarningLayer(pub Arc<RecentWarnings>);

#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for WarningLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let level = *event.metadata().level();
        if level > Level::WARN {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        self.0.push(Warning {
            at_ms: qnode_protocol::clock::now_ms(),
            level: level.to_string(),
            message: format!("{}{}", text.message, text.fields),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn warnings_and_errors_are_kept_newest_last_and_bounded() {
        let recent = Arc::new(RecentWarnings::default());
        let subscriber = tracing_subscriber::registry().with(WarningLayer(recent.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not kept");
            for i in 0..KEPT + 3 {
                tracing::warn!(peer = i, "peer penalised");
            }
            tracing::error!("store failed");
        });
        let list = recent.list();
        assert_eq!(list.len(), KEPT);
        assert_eq!(list[KEPT - 1].message, "store failed");
        assert_eq!(list[KEPT - 1].level, "ERROR");
        assert_eq!(list[0].message, "peer penalised peer=4");
    }
}
