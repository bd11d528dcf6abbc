//! The width-17 Poseidon permutation of go-iden3-crypto v0.0.15, with the paper's sparse
//! partial rounds: 4 full rounds, the change of basis `P`, 68 partial rounds each with one
//! S-box and a sparse matrix (`S`), then 4 full rounds. Each matrix row times the state
//! is reduced once (`dot.rs`), not once per product.
//!
//! Inputs a sponge frame leaves empty are zero, and the capacity element starts at zero,
//! so up to the first mix those elements are constants: their part of each row of the
//! first mix is precomputed (`first_mix_of_constants`). The last frame of a 516-byte
//! frame output holds 2 inputs of 16, which spares 255 of that permutation's products.

use super::dot::{dot, dot_pairs};
use ark_bn254::Fr;
use ark_ff::{BigInt, Field, PrimeField};
use std::sync::LazyLock;

/// Inputs per permutation (the state is these and a zero capacity element).
pub const INPUTS: usize = 16;
const WIDTH: usize = INPUTS + 1;
const FULL_ROUNDS: usize = 8;
const PARTIAL_ROUNDS: usize = 68;
/// Entries of one sparse partial-round matrix: its first row and first column.
const SPARSE: usize = 2 * WIDTH - 1;
const C_LEN: usize = WIDTH * FULL_ROUNDS + PARTIAL_ROUNDS;
const S_LEN: usize = SPARSE * PARTIAL_ROUNDS;

type State = [Fr; WIDTH];
type Matrix = [[Fr; WIDTH]; WIDTH];

/// The constants, in the order `scripts/poseidon_constants.py` writes them.
const DATA: &[u8] = include_bytes!("t17.bin");

struct Constants {
    c: Vec<Fr>,
    /// Per partial round, the sparse matrix's first row and the rest of its first column.
    sparse: Vec<([Fr; WIDTH], [Fr; WIDTH - 1])>,
    /// `M` and `P` transposed, so that each output element is one row times the state.
    m: Matrix,
    p: Matrix,
    /// For `live` = 0..=16: the first mix's rows times the state elements that are
    /// constants when only the first `live` inputs may be non-zero (the capacity element
    /// and inputs `live..`).
    first_mix_of_constants: Vec<State>,
}

static CONSTANTS: LazyLock<Constants> = LazyLock::new(Constants::load);

impl Constants {
    /// Reads the embedded table. It is part of the binary and checked by the vector
    /// tests, so a malformed one is a broken build, not an input error.
    #[allow(clippy::expect_used)]
    fn load() -> Constants {
        assert_eq!(DATA.len(), 32 * (C_LEN + S_LEN + 2 * WIDTH * WIDTH));
        let mut values = DATA.chunks_exact(32).map(|bytes| {
            let limbs = std::array::from_fn(|i| {
                let limb = &bytes[8 * i..8 * i + 8];
                u64::from_le_bytes(limb.try_into().expect("8 bytes"))
            });
            Fr::from_bigint(BigInt::new(limbs)).expect("a canonical field element")
        });
        let c: Vec<Fr> = values.by_ref().take(C_LEN).collect();
        let mut next = || values.next().expect("a full table");
        let sparse = (0..PARTIAL_ROUNDS)
            .map(|_| {
                let row = std::array::from_fn(|_| next());
                let column = std::array::from_fn(|_| next());
                (row, column)
            })
            .collect();
        let mut transposed = || {
            let mut matrix = [[Fr::from(0u64); WIDTH]; WIDTH];
            for j in 0..WIDTH {
                for row in matrix.iter_mut() {
                    row[j] = values.next().expect("a full matrix");
                }
            }
            matrix
        };
        let m = transposed();
        let p = transposed();
        let first_mix_of_constants = first_mix_of_constants(&c, &m);
        Constants {
            c,
            sparse,
            m,
            p,
            first_mix_of_constants,
        }
    }
}

/// See [`Constants::first_mix_of_constants`]. A zero element is `c[i]` after the first
/// constants, then goes through the S-box and gets the first round's constants.
fn first_mix_of_constants(c: &[Fr], m: &Matrix) -> Vec<State> {
    let fixed: State = std::array::from_fn(|i| {
        let mut x = c[i];
        sbox(&mut x);
        x + c[WIDTH + i]
    });
    (0..=INPUTS)
        .map(|live| {
            std::array::from_fn(|row| {
                let constant = |&i: &usize| i == 0 || i > live;
                (0..WIDTH)
                    .filter(constant)
                    .map(|i| m[row][i] * fixed[i])
                    .sum()
            })
        })
        .collect()
}

fn sbox(x: &mut Fr) {
    let square = x.square();
    *x *= square.square();
}

fn add_constants(state: &mut State, constants: &[Fr]) {
    for (x, c) in state.iter_mut().zip(constants) {
        *x += c;
    }
}

fn mix(state: &State, matrix: &Matrix) -> State {
    std::array::from_fn(|i| dot(&matrix[i], state))
}

/// Full rounds: every element through the S-box, the round's constants, the mix; the
/// last round mixes with `last_matrix`.
fn full_rounds(state: &mut State, c: &[Fr], last_matrix: &Matrix, m: &Matrix, rounds: usize) {
    for (round, constants) in c.chunks_exact(WIDTH).take(rounds).enumerate() {
        state.iter_mut().for_each(sbox);
        add_constants(state, constants);
        let matrix = if round + 1 == rounds { last_matrix } else { m };
        *state = mix(state, matrix);
    }
}

/// The permutation's first output element for `inputs` (go-iden3-crypto's `Hash`), of
/// which only the first `live` may be non-zero.
pub fn permute(inputs: &[Fr; INPUTS], live: usize) -> Fr {
    let k = &*CONSTANTS;
    let half = FULL_ROUNDS / 2;
    let live = live.min(INPUTS);
    debug_assert!(inputs[live..].iter().all(|x| x.0 .0 == [0; 4]));
    // The first full round, with the constant elements' share of the mix precomputed.
    let mut varying = [Fr::from(0u64); INPUTS];
    for (i, (x, input)) in varying.iter_mut().zip(inputs).enumerate().take(live) {
        *x = *input + k.c[i + 1];
        sbox(x);
        *x += k.c[WIDTH + i + 1];
    }
    let constants = &k.first_mix_of_constants[live];
    let mut state: State = std::array::from_fn(|row| {
        constants[row] + dot_pairs(k.m[row][1..=live].iter().zip(&varying[..live]))
    });
    // The first half ends with P, which moves the state into the sparse basis.
    full_rounds(&mut state, &k.c[2 * WIDTH..], &k.p, &k.m, half - 1);
    let partial_c = &k.c[(half + 1) * WIDTH..];
    for ((row, column), c) in k.sparse.iter().zip(partial_c) {
        sbox(&mut state[0]);
        state[0] += c;
        let x0 = state[0];
        let first = dot(row, &state);
        for (x, s) in state[1..].iter_mut().zip(column) {
            *x += x0 * s;
        }
        state[0] = first;
    }
    let second_c = &k.c[(half + 1) * WIDTH + PARTIAL_ROUNDS..];
    full_rounds(&mut state, second_c, &k.m, &k.m, half - 1);
    // The last round has no constants, and only the first element is the hash.
    state.iter_mut().for_each(sbox);
    dot(&k.m[0], &state)
}
