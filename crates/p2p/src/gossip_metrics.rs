//! What gossipsub counts about the messages it receives. Gossipsub drops a duplicate
//! before the node sees it, so only its own metrics know how many copies of each message
//! arrived: the gossip amplification a network's layout costs every node.

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Messages received on every topic since start: every copy, and the distinct ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GossipReceipts {
    /// Every copy received, duplicates included.
    pub copies: u64,
    /// Distinct messages (first copies).
    pub unique: u64,
}

/// The registry gossipsub records into; shared by the swarm and every handle.
#[derive(Clone, Default)]
pub(crate) struct GossipMetrics(Arc<Registry>);

/// The counter families gossipsub registers (`metrics.rs` of libp2p-gossipsub), as the
/// text encoder names their samples.
const COPIES: &str = "topic_msg_recv_counts_unfiltered_total";
const UNIQUE: &str = "topic_msg_recv_counts_total";

impl GossipMetrics {
    pub(crate) fn new(registry: Registry) -> Self {
        GossipMetrics(Arc::new(registry))
    }

    pub(crate) fn receipts(&self) -> GossipReceipts {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.0);
        receipts_from_text(&text)
    }
}

/// Sums the two counters over every topic in the OpenMetrics text of the registry.
fn receipts_from_text(text: &str) -> GossipReceipts {
    let mut receipts = GossipReceipts::default();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = match (line.split(['{', ' ']).next(), line.rsplit(' ').next()) {
            (Some(name), Some(value)) => (name, value.parse::<u64>().unwrap_or(0)),
            _ => continue,
        };
        match name {
            COPIES => receipts.copies += value,
            UNIQUE => receipts.unique += value,
            _ => {}
        }
    }
    receipts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_each_counter_over_topics_and_ignores_the_others() {
        let text = "# HELP topic_msg_recv_counts Number of gossip messages\n\
            # TYPE topic_msg_recv_counts counter\n\
            topic_msg_recv_counts_total{hash=\"a\"} 3\n\
            topic_msg_recv_counts_total{hash=\"b\"} 4\n\
            topic_msg_recv_counts_unfiltered_total{hash=\"a\"} 10\n\
            topic_msg_recv_counts_unfiltered_total{hash=\"b\"} 11\n\
            topic_msg_recv_bytes_total{hash=\"a\"} 999\n\
            # EOF\n";
        assert_eq!(
            receipts_from_text(text),
            GossipReceipts {
                copies: 21,
                unique: 7
            }
        );
    }
}
