//! What the router remembers of messages: the recent ones whole (to answer IWANT and to
//! announce in IHAVE), and the ids of all it saw lately (to drop copies).

use crate::message::MessageId;
use crate::rpc;
use libp2p::PeerId;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

struct Cached {
    message: rpc::Message,
    /// How often each peer asked for it.
    asked: HashMap<PeerId, usize>,
}

/// Accepted messages of the last `history_length` heartbeats, one window per heartbeat.
pub(crate) struct MessageCache {
    messages: HashMap<MessageId, Cached>,
    /// The newest window first.
    windows: VecDeque<Vec<MessageId>>,
    history_length: usize,
    history_gossip: usize,
}

impl MessageCache {
    pub(crate) fn new(history_length: usize, history_gossip: usize) -> Self {
        let history_length = history_length.max(1);
        MessageCache {
            messages: HashMap::new(),
            windows: VecDeque::from([Vec::new()]),
            history_length,
            history_gossip: history_gossip.clamp(1, history_length),
        }
    }

    pub(crate) fn put(&mut self, id: MessageId, message: rpc::Message) {
        if self.messages.contains_key(&id) {
            return;
        }
        self.messages.insert(
            id.clone(),
            Cached {
                message,
                asked: HashMap::new(),
            },
        );
        if let Some(newest) = self.windows.front_mut() {
            newest.push(id);
        }
    }

    #[cfg(test)]
    fn contains(&self, id: &MessageId) -> bool {
        self.messages.contains_key(id)
    }

    /// The message for `peer`'s IWANT and how often that peer has now asked for it.
    pub(crate) fn get_for(
        &mut self,
        id: &MessageId,
        peer: PeerId,
    ) -> Option<(&rpc::Message, usize)> {
        let cached = self.messages.get_mut(id)?;
        let asked = cached.asked.entry(peer).or_insert(0);
        *asked += 1;
        Some((&cached.message, *asked))
    }

    /// The ids to announce for `bitmask`: those of the gossip windows.
    pub(crate) fn gossip_ids(&self, bitmask: &[u8]) -> Vec<MessageId> {
        self.windows
            .iter()
            .take(self.history_gossip)
            .flatten()
            .filter(|id| {
                self.messages
                    .get(*id)
                    .is_some_and(|c| c.message.bitmask == bitmask)
            })
            .cloned()
            .collect()
    }

    /// Opens a new window; the oldest beyond the history is forgotten.
    pub(crate) fn shift(&mut self) {
        self.windows.push_front(Vec::new());
        while self.windows.len() > self.history_length {
            if let Some(oldest) = self.windows.pop_back() {
                for id in oldest {
                    self.messages.remove(&id);
                }
            }
        }
    }
}

/// Ids seen within the last `ttl`, at most `capacity` of them (the oldest go first).
pub(crate) struct SeenCache {
    ids: HashMap<MessageId, Instant>,
    order: VecDeque<(Instant, MessageId)>,
    ttl: Duration,
    capacity: usize,
}

impl SeenCache {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        SeenCache {
            ids: HashMap::new(),
            order: VecDeque::new(),
            ttl,
            capacity,
        }
    }

    pub(crate) fn contains(&self, id: &MessageId) -> bool {
        self.ids.contains_key(id)
    }

    /// Records `id`; false when it was already seen.
    pub(crate) fn insert(&mut self, id: MessageId, now: Instant) -> bool {
        if self.ids.contains_key(&id) {
            return false;
        }
        self.ids.insert(id.clone(), now);
        self.order.push_back((now, id));
        while self.order.len() > self.capacity {
            self.forget_oldest();
        }
        true
    }

    pub(crate) fn expire(&mut self, now: Instant) {
        while self
            .order
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= self.ttl)
        {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((_, id)) = self.order.pop_front() {
            self.ids.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(bitmask: u8, seqno: u8) -> (MessageId, rpc::Message) {
        let message = rpc::Message {
            from: vec![1, 2],
            seqno: vec![seqno],
            bitmask: vec![bitmask],
            ..Default::default()
        };
        (MessageId::of(&message), message)
    }

    #[test]
    fn messages_are_announced_for_the_gossip_windows_and_kept_for_the_history() {
        let mut cache = MessageCache::new(5, 3);
        let (first, m) = message(1, 1);
        cache.put(first.clone(), m);
        let (other, m) = message(2, 2);
        cache.put(other, m);
        assert_eq!(cache.gossip_ids(&[1]), vec![first.clone()]);
        for _ in 0..3 {
            cache.shift();
        }
        assert!(
            cache.gossip_ids(&[1]).is_empty(),
            "out of the gossip windows"
        );
        assert!(cache.contains(&first), "still in the history");
        let peer = PeerId::random();
        assert_eq!(cache.get_for(&first, peer).map(|(_, n)| n), Some(1));
        assert_eq!(cache.get_for(&first, peer).map(|(_, n)| n), Some(2));
        cache.shift();
        cache.shift();
        assert!(!cache.contains(&first), "out of the history");
    }

    #[test]
    fn seen_ids_expire_and_are_capped() {
        let start = Instant::now();
        let mut seen = SeenCache::new(Duration::from_secs(120), 2);
        assert!(seen.insert(MessageId(vec![1]), start));
        assert!(!seen.insert(MessageId(vec![1]), start));
        seen.insert(MessageId(vec![2]), start);
        seen.insert(MessageId(vec![3]), start);
        assert!(
            !seen.contains(&MessageId(vec![1])),
            "over capacity: oldest forgotten"
        );
        seen.expire(start + Duration::from_secs(121));
        assert!(!seen.contains(&MessageId(vec![3])));
    }
}
