//! Why a task's end is a failure, and the failure that stops a node.

use super::TaskError;

/// Why a task ended while the node ran.
#[derive(Debug)]
pub enum Cause {
    /// It returned: the input it serves closed.
    Returned,
    /// It returned an error.
    Failed(TaskError),
    /// It panicked.
    Panicked(String),
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Returned => write!(f, "returned while the node was running"),
            Cause::Failed(error) => write!(f, "failed: {error}"),
            Cause::Panicked(message) => write!(f, "panicked: {message}"),
        }
    }
}

/// A task whose failure stops the node.
#[derive(Debug)]
pub struct TaskFailure {
    /// The task.
    pub name: &'static str,
    /// What happened to it.
    pub cause: Cause,
}

impl std::fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "task `{}` {}", self.name, self.cause)
    }
}

impl std::error::Error for TaskFailure {
    /// The failed task's error's own cause: the error itself is already in the message.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Failed(error) => error.source(),
            Cause::Returned | Cause::Panicked(_) => None,
        }
    }
}

/// A panic's message, if it has one.
pub(super) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
