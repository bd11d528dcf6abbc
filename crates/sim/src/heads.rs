//! How fast new master frames spread: when each node first had each frame at or below its
//! head, and from that, the time for a frame to reach half, 90 % and all of a set of nodes.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Per node, the first time it was seen with each frame number at or below its head.
#[derive(Debug, Default)]
pub struct HeadLog {
    nodes: Vec<NodeHeads>,
}

#[derive(Debug, Default)]
struct NodeHeads {
    head: u64,
    reached: BTreeMap<u64, Duration>,
}

/// Milliseconds, over the frames that reached that share of the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// The median.
    pub p50: f64,
    /// The 99th percentile (nearest rank).
    pub p99: f64,
    /// How many frames it is taken over.
    pub frames: usize,
}

/// Time from a frame's first sighting until it is the head of, or behind the head of, a
/// share of the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Propagation {
    /// Half of them.
    #[serde(rename = "50%")]
    pub half: Option<Percentiles>,
    /// 90 % of them.
    #[serde(rename = "90%")]
    pub most: Option<Percentiles>,
    /// All of them.
    #[serde(rename = "100%")]
    pub all: Option<Percentiles>,
}

impl HeadLog {
    /// Records that `node` had `head` at `at` (time since the run began). A head that
    /// jumped several frames reached each of them now.
    pub fn sample(&mut self, node: usize, head: u64, at: Duration) {
        if self.nodes.len() <= node {
            self.nodes.resize_with(node + 1, NodeHeads::default);
        }
        let heads = &mut self.nodes[node];
        for frame in heads.head + 1..=head {
            heads.reached.entry(frame).or_insert(at);
        }
        heads.head = heads.head.max(head);
    }

    /// The latest head seen of `node`.
    pub fn head(&self, node: usize) -> u64 {
        self.nodes.get(node).map_or(0, |n| n.head)
    }

    /// Propagation among `nodes`, over the frames first seen after every one of them was
    /// sampled once (a node's first sample says nothing of when it got older frames).
    pub fn propagation(&self, nodes: &[usize]) -> Propagation {
        let floor = nodes
            .iter()
            .map(|&n| self.first_sampled_head(n))
            .max()
            .unwrap_or(0);
        let frames: Vec<u64> = nodes
            .iter()
            .filter_map(|&n| self.nodes.get(n))
            .flat_map(|n| n.reached.keys().copied())
            .filter(|&f| f > floor)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let delays = |share: f64| {
            let needed = ((share * nodes.len() as f64).ceil() as usize).max(1);
            let mut delays: Vec<f64> = frames
                .iter()
                .filter_map(|&f| self.delay_to(f, nodes, needed))
                .collect();
            percentiles(&mut delays)
        };
        Propagation {
            half: delays(0.5),
            most: delays(0.9),
            all: delays(1.0),
        }
    }

    /// The head of `node` when it was first sampled: frames up to it were reached before.
    fn first_sampled_head(&self, node: usize) -> u64 {
        self.nodes
            .get(node)
            .and_then(|n| {
                let first = n.reached.values().min()?;
                n.reached
                    .iter()
                    .filter(|(_, at)| *at == first)
                    .map(|(&f, _)| f)
                    .max()
            })
            .unwrap_or(0)
    }

    /// Milliseconds from the first of `nodes` having `frame` until `needed` of them had it.
    fn delay_to(&self, frame: u64, nodes: &[usize], needed: usize) -> Option<f64> {
        let mut times: Vec<Duration> = nodes
            .iter()
            .filter_map(|&n| self.nodes.get(n)?.reached.get(&frame).copied())
            .collect();
        if times.len() < needed {
            return None;
        }
        times.sort_unstable();
        Some((times[needed - 1] - times[0]).as_secs_f64() * 1000.0)
    }
}

fn percentiles(values: &mut [f64]) -> Option<Percentiles> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = |p: usize| values[(values.len() * p).div_ceil(100).max(1) - 1];
    Some(Percentiles {
        p50: rank(50),
        p99: rank(99),
        frames: values.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn shares_of_the_nodes_and_jumps_of_several_frames() {
        let mut log = HeadLog::default();
        for node in 0..4 {
            log.sample(node, 1, ms(0));
        }
        // Frame 2 reaches node 0 at 100 ms, then 1, 2 and 3 at 110, 130, 160 ms.
        for (node, at) in [(0, 100), (1, 110), (2, 130), (3, 160)] {
            log.sample(node, 2, ms(at));
        }
        // Frame 3 reaches 0 and 1; node 2 jumps from 2 to 4 at 400 ms; 3 never gets it.
        log.sample(0, 3, ms(300));
        log.sample(1, 3, ms(340));
        log.sample(2, 4, ms(400));
        let p = log.propagation(&[0, 1, 2, 3]);
        // Frame 2: half (2 nodes) after 10 ms, 90 % (4 nodes) and all after 60 ms.
        // Frame 3: half after 40 ms; three of the four have it, short of 90 %.
        // Frame 4: one node only, short of half.
        let half = p.half.unwrap();
        assert_eq!((half.p50, half.frames), (10.0, 2));
        assert_eq!(half.p99, 40.0);
        let all = p.all.unwrap();
        assert_eq!((all.p50, all.p99, all.frames), (60.0, 60.0, 1));
        assert_eq!(p.most, p.all);
        assert_eq!(log.head(2), 4);
    }

    #[test]
    fn frames_older_than_a_nodes_first_sample_do_not_count() {
        let mut log = HeadLog::default();
        log.sample(0, 5, ms(0));
        log.sample(1, 3, ms(50));
        log.sample(1, 5, ms(90));
        // Node 1 was first seen at 3 and node 0 at 5: nothing above 5 yet.
        assert_eq!(log.propagation(&[0, 1]).half, None);
        log.sample(0, 6, ms(200));
        log.sample(1, 6, ms(260));
        let all = log.propagation(&[0, 1]).all.unwrap();
        assert_eq!((all.p50, all.frames), (60.0, 1));
    }
}
