//! The original node's requests to its data workers and their answers (recorded at the
//! original's workers, `recorded/data_worker.json`): qnode decodes both, verifies every
//! answer, and qnode's worker answers one of the requests with the same bytes.

use prost::Message;
use qnode_protocol::pb::data::data_ipc_service_server::DataIpcService;
use qnode_protocol::pb::data::{ChallengeProofRequest, ChallengeProofResponse};
use qnode_test_vectors::{recorded, unhex};
use qnode_worker::ChallengeProver;
use serde::Deserialize;

#[derive(Deserialize)]
struct Recorded {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    core: u32,
    increment: u32,
    request: String,
    response: String,
}

fn cases() -> Vec<(Case, ChallengeProofRequest, ChallengeProofResponse)> {
    let recorded: Recorded = recorded("data_worker.json");
    recorded
        .cases
        .into_iter()
        .map(|case| {
            let request = ChallengeProofRequest::decode(unhex(&case.request).as_slice())
                .expect("the original's request decodes");
            let response = ChallengeProofResponse::decode(unhex(&case.response).as_slice())
                .expect("the original's answer decodes");
            (case, request, response)
        })
        .collect()
}

#[test]
fn the_originals_worker_answers_verify_with_qnodes_vdf() {
    let cases = cases();
    assert!(cases.len() >= 6, "three cores, two increments");
    for (case, request, response) in cases {
        assert_eq!(
            (request.core, request.increment),
            (case.core, case.increment)
        );
        assert_eq!(
            request.encode_to_vec(),
            unhex(&case.request),
            "same bytes back"
        );
        let seed = qnode_vdf::challenge_seed(&request.challenge, request.core);
        let difficulty = qnode_vdf::scaled_challenge_difficulty(request.increment, 1);
        qnode_vdf::verify(&seed, difficulty, &response.output)
            .expect("the original's worker output verifies");
    }
}

/// The real difficulty (about 200000 squarings): a few seconds.
#[tokio::test]
async fn qnodes_worker_gives_the_originals_answer_byte_for_byte() {
    let (case, request, response) = cases()
        .into_iter()
        .find(|(case, _, _)| case.increment > 0)
        .expect("a case past increment 0");
    let prover = ChallengeProver {
        core: case.core,
        difficulty_divisor: 1,
    };
    let ours = prover
        .calculate_challenge_proof(tonic::Request::new(request))
        .await
        .expect("proves")
        .into_inner();
    assert_eq!(ours.output, response.output);
}
