//! The heartbeat (every second): meshes kept between D_lo and D_hi with enough outbound
//! peers and no negative scores, opportunistic grafting, fanouts expired and topped up,
//! IHAVE gossip to peers outside the mesh, and the caches aged.

use super::{Behaviour, Bitmask, RETAIN_SCORE, VERDICT_TIMEOUT};
use crate::rpc;
use libp2p::PeerId;
use rand::seq::SliceRandom;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// GRAFTs and PRUNEs decided in one heartbeat, sent at its end.
#[derive(Default)]
struct MeshChanges {
    graft: HashMap<PeerId, Vec<Bitmask>>,
    prune: HashMap<PeerId, Vec<Bitmask>>,
}

impl Behaviour {
    pub(crate) fn heartbeat(&mut self) {
        let now = Instant::now();
        self.ticks += 1;
        self.ihaves_read.clear();
        self.ids_asked.clear();
        let mut changes = MeshChanges::default();
        let bitmasks: Vec<Bitmask> = self.mesh.keys().cloned().collect();
        for bitmask in &bitmasks {
            self.maintain_mesh(bitmask, now, &mut changes);
            let exclude = self.mesh.get(bitmask).cloned().unwrap_or_default();
            self.emit_gossip(bitmask, &exclude);
        }
        self.maintain_fanouts(now);
        self.send_mesh_changes(changes);
        self.flush_gossip();
        self.age(now);
    }

    fn maintain_mesh(&mut self, bitmask: &Bitmask, now: Instant, changes: &mut MeshChanges) {
        let mut mesh = self.mesh.remove(bitmask).unwrap_or_default();
        let negative: Vec<PeerId> = mesh
            .iter()
            .filter(|p| self.score(p) < 0.0)
            .copied()
            .collect();
        for peer in negative {
            mesh.remove(&peer);
            changes.prune.entry(peer).or_default().push(bitmask.clone());
        }
        let eligible = |router: &Self, mesh: &HashSet<PeerId>, p: &PeerId| {
            !mesh.contains(p) && router.score(p) >= 0.0 && !router.backing_off(p, bitmask, now)
        };
        if mesh.len() < self.params.d_lo {
            let wanted = self.params.d - mesh.len();
            for peer in self.pick_peers(bitmask, wanted, |r, p| eligible(r, &mesh, p)) {
                mesh.insert(peer);
                changes.graft.entry(peer).or_default().push(bitmask.clone());
            }
        }
        if mesh.len() > self.params.d_hi {
            for peer in self.excess(&mesh) {
                mesh.remove(&peer);
                changes.prune.entry(peer).or_default().push(bitmask.clone());
            }
        }
        if mesh.len() >= self.params.d_lo {
            let outbound = mesh.iter().filter(|p| self.outbound.contains(p)).count();
            let wanted = self.params.d_out.saturating_sub(outbound);
            let more = self.pick_peers(bitmask, wanted, |r, p| {
                r.outbound.contains(p) && eligible(r, &mesh, p)
            });
            for peer in more {
                mesh.insert(peer);
                changes.graft.entry(peer).or_default().push(bitmask.clone());
            }
        }
        let ticks = self.params.opportunistic_graft_ticks;
        if ticks > 0 && self.ticks.is_multiple_of(ticks) && mesh.len() > 1 {
            for peer in self.opportunistic(bitmask, &mesh, now) {
                mesh.insert(peer);
                changes.graft.entry(peer).or_default().push(bitmask.clone());
            }
        }
        self.mesh.insert(bitmask.clone(), mesh);
    }

    /// The mesh peers to prune when it is over D_hi: keep the D_score best, then random
    /// ones up to D, swapping in outbound peers until D_out of them stay.
    fn excess(&self, mesh: &HashSet<PeerId>) -> Vec<PeerId> {
        let mut peers: Vec<PeerId> = mesh.iter().copied().collect();
        peers.shuffle(&mut rand::thread_rng());
        peers.sort_by(|a, b| self.score(b).total_cmp(&self.score(a)));
        let (best, rest) = peers.split_at_mut(self.params.d_score.min(mesh.len()));
        rest.shuffle(&mut rand::thread_rng());
        let mut kept: Vec<PeerId> = best.iter().chain(rest.iter()).copied().collect();
        let mut pruned = kept.split_off(self.params.d.min(kept.len()));
        let outbound = |p: &PeerId| self.outbound.contains(p);
        let mut short = self
            .params
            .d_out
            .saturating_sub(kept.iter().filter(|p| outbound(p)).count());
        while short > 0 {
            let Some(at) = pruned.iter().position(&outbound) else {
                break;
            };
            let Some(swap) = kept.iter().rposition(|p| !outbound(p)) else {
                break;
            };
            let promoted = pruned.remove(at);
            pruned.push(std::mem::replace(&mut kept[swap], promoted));
            short -= 1;
        }
        pruned
    }

    /// Peers scoring above the mesh's median, when that median is below the threshold.
    fn opportunistic(&self, bitmask: &[u8], mesh: &HashSet<PeerId>, now: Instant) -> Vec<PeerId> {
        let mut scores: Vec<f64> = mesh.iter().map(|p| self.score(p)).collect();
        scores.sort_by(f64::total_cmp);
        let median = scores[scores.len() / 2];
        if median >= self.thresholds.opportunistic_graft {
            return Vec::new();
        }
        self.pick_peers(bitmask, self.params.opportunistic_graft_peers, |r, p| {
            !mesh.contains(p) && r.score(p) > median && !r.backing_off(p, bitmask, now)
        })
    }

    fn maintain_fanouts(&mut self, now: Instant) {
        let ttl = self.params.fanout_ttl;
        let expired: Vec<Bitmask> = self
            .last_published
            .iter()
            .filter(|(_, at)| now.saturating_duration_since(**at) > ttl)
            .map(|(bitmask, _)| bitmask.clone())
            .collect();
        for bitmask in expired {
            self.last_published.remove(&bitmask);
            self.fanout.remove(&bitmask);
        }
        let bitmasks: Vec<Bitmask> = self.fanout.keys().cloned().collect();
        for bitmask in bitmasks {
            let mut fanout = self.fanout.remove(&bitmask).unwrap_or_default();
            let subscribed: HashSet<PeerId> = self.bitmask_peers(&bitmask).copied().collect();
            fanout.retain(|p| subscribed.contains(p) && self.score(p) >= self.thresholds.publish);
            let wanted = self.params.d.saturating_sub(fanout.len());
            let publish = self.thresholds.publish;
            fanout.extend(self.pick_peers(&bitmask, wanted, |r, p| {
                !fanout.contains(p) && r.score(p) >= publish
            }));
            self.emit_gossip(&bitmask, &fanout);
            self.fanout.insert(bitmask, fanout);
        }
    }

    /// Queues an IHAVE of the bitmask's recent messages for D_lazy (or the gossip factor's
    /// share of) subscribed peers outside `exclude` that score at least the gossip
    /// threshold.
    fn emit_gossip(&mut self, bitmask: &Bitmask, exclude: &HashSet<PeerId>) {
        let mut ids: Vec<Vec<u8>> = self
            .mcache
            .gossip_ids(bitmask)
            .into_iter()
            .map(|id| id.0)
            .collect();
        if ids.is_empty() {
            return;
        }
        let gossip = self.thresholds.gossip;
        let candidates = self.pick_peers(bitmask, usize::MAX, |r, p| {
            !exclude.contains(p) && r.score(p) >= gossip
        });
        let share = (self.params.gossip_factor * candidates.len() as f64) as usize;
        let target = self.params.d_lazy.max(share);
        ids.shuffle(&mut rand::thread_rng());
        ids.truncate(self.params.max_ihave_length);
        for peer in candidates.into_iter().take(target) {
            self.gossip_out
                .entry(peer)
                .or_default()
                .push(rpc::ControlIHave {
                    bitmask: bitmask.clone(),
                    message_ids: ids.clone(),
                });
        }
    }

    fn send_mesh_changes(&mut self, mut changes: MeshChanges) {
        let prune_backoff = self.params.prune_backoff;
        let peers: HashSet<PeerId> = changes
            .graft
            .keys()
            .chain(changes.prune.keys())
            .copied()
            .collect();
        for peer in peers {
            let graft = changes
                .graft
                .remove(&peer)
                .unwrap_or_default()
                .into_iter()
                .map(|bitmask| rpc::ControlGraft { bitmask })
                .collect();
            let pruned = changes.prune.remove(&peer).unwrap_or_default();
            let mut prune = Vec::new();
            for bitmask in pruned {
                self.add_backoff(&peer, &bitmask, prune_backoff);
                prune.push(self.prune_for(&bitmask, prune_backoff));
            }
            self.send_control(
                &peer,
                rpc::ControlMessage {
                    graft,
                    prune,
                    ..Default::default()
                },
            );
        }
    }

    fn flush_gossip(&mut self) {
        for (peer, ihave) in std::mem::take(&mut self.gossip_out) {
            self.send_control(
                &peer,
                rpc::ControlMessage {
                    ihave,
                    ..Default::default()
                },
            );
        }
    }

    /// Shifts the message cache; forgets expired seen ids, backoffs, scores of peers long
    /// gone, and messages the node never judged.
    fn age(&mut self, now: Instant) {
        self.mcache.shift();
        self.seen.expire(now);
        for peers in self.backoff.values_mut() {
            peers.retain(|_, until| *until > now);
        }
        self.backoff.retain(|_, peers| !peers.is_empty());
        let gone: Vec<PeerId> = self
            .departed
            .iter()
            .filter(|(_, at)| now.saturating_duration_since(**at) > RETAIN_SCORE)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in gone {
            self.departed.remove(&peer);
        }
        // Scores of peers neither connected nor recently gone are dropped: the node sets a
        // peer's score again whenever it connects, and an author heard only through relays
        // must not grow this map without bound.
        let (connections, departed) = (&self.connections, &self.departed);
        self.app_scores
            .retain(|peer, _| connections.contains_key(peer) || departed.contains_key(peer));
        self.pending
            .retain(|_, pending| now.saturating_duration_since(pending.since) < VERDICT_TIMEOUT);
    }
}
