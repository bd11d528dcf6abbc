//! Stage 2, open state: every check passed, so from here the start writes — the store
//! opened for writing, a new key saved, the master time reel from genesis or the stored
//! head, and the self-test (run once per setup and difficulty, then read back).

use crate::identity::{IdentityError, KeyPlan};
use crate::{off_runtime, NodeConfig, NodeError};
use qnode_kzg::Setup;
use qnode_prover::kzg_setup::LoadedSetup;
use qnode_prover::self_test::{self, Fingerprint, SelfTest};
use qnode_services::master_time_reel::{Genesis, MasterTimeReel};
use qnode_store::Store;
use std::sync::Arc;

/// The node's opened state.
pub(super) struct State {
    /// The master clock.
    pub reel: MasterTimeReel,
    /// What the prover starts from.
    pub opened: Opened,
}

/// The store and what the prover needs.
pub(super) struct Opened {
    /// The store.
    pub store: Arc<Store>,
    /// The genesis frame's output (the proof chain's first challenge).
    pub genesis_output: Vec<u8>,
    /// The KZG setup.
    pub kzg: Arc<Setup>,
    /// This machine's self-test.
    pub self_test: SelfTest,
}

/// Opens the store, saves a new key, starts the reel and runs or reads the self-test.
pub(super) async fn open(
    config: &NodeConfig,
    key: &KeyPlan,
    setup: LoadedSetup,
) -> Result<State, NodeError> {
    let dir = config.config_dir.clone();
    let store = Arc::new(off_runtime(move || Store::open_in(&dir)).await?);
    if let KeyPlan::Create(key) = key {
        qnode_identity::save_identity(&config.config_dir, key).map_err(IdentityError::from)?;
    }
    let genesis = Genesis {
        seed: config.genesis_seed.clone(),
        difficulty: config.master_difficulty(),
    };
    let (reel_store, filter) = (store.clone(), config.filter.clone());
    let reel = off_runtime(move || MasterTimeReel::start(reel_store, &filter, &genesis)).await?;
    let genesis_output = store
        .frame(&config.filter, 0)?
        .map(|f| f.output)
        .unwrap_or_default();
    let kzg = Arc::new(setup.ceremony.setup);
    let fingerprint = Fingerprint::current(config.master_difficulty(), &setup.hash);
    let self_test = run_self_test(config, fingerprint, &kzg).await?;
    Ok(State {
        reel,
        opened: Opened {
            store,
            genesis_output,
            kzg,
            self_test,
        },
    })
}

/// The stored self-test if it fits this setup and difficulty; otherwise a new one.
async fn run_self_test(
    config: &NodeConfig,
    fingerprint: Fingerprint,
    kzg: &Arc<Setup>,
) -> Result<SelfTest, NodeError> {
    if let Some(stored) = self_test::load_current(&config.config_dir, &fingerprint) {
        return Ok(stored);
    }
    tracing::info!("running the self-test");
    let (dir, kzg) = (config.config_dir.clone(), kzg.clone());
    let report = off_runtime(move || {
        self_test::run(&dir, fingerprint, &kzg, |step, _, _| {
            tracing::info!(step, "self-test");
        })
    })
    .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{checks, config::devnet_config};

    #[tokio::test]
    async fn a_second_open_resumes_the_reel_and_reads_the_self_test_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = devnet_config(dir.path());
        let checked = checks::run(&config).await.unwrap();
        let first = open(&config, &checked.key, checked.setup).await.unwrap();
        assert_eq!(first.reel.head().frame_number, 0, "genesis");
        assert!(
            dir.path().join("node-key").is_file(),
            "the new key is saved"
        );
        assert!(dir.path().join(self_test::REPORT_FILE).is_file());
        let head = first.reel.head().clone();
        let self_test = first.opened.self_test.clone();
        first.opened.store.close().unwrap();
        drop(first);

        let checked = checks::run(&config).await.unwrap();
        assert!(
            matches!(checked.key, KeyPlan::Use(_)),
            "the saved key is used"
        );
        let again = open(&config, &checked.key, checked.setup).await.unwrap();
        assert_eq!(again.reel.head(), &head);
        // Timings differ between runs: equal ones were read back, not measured again.
        assert_eq!(again.opened.self_test, self_test);
    }
}
