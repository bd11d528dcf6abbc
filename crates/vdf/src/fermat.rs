//! A base-2 Fermat test that throws out composite prime candidates before GMP's test.
//!
//! Almost every candidate the discriminant search tests is composite, and GMP's verdict
//! on a composite comes from its first step, a base-2 Miller-Rabin test: one 2048-bit
//! modular exponentiation. OpenSSL's (Montgomery assembly, doubling for a word base) takes
//! 1.66 ms here against GMP 6.2.1's 2.42 ms. A number that fails the base-2 Fermat test
//! also fails base-2 Miller-Rabin, so GMP would call it composite too: skipping GMP for it
//! cannot change which candidate wins. Every candidate that passes still goes to GMP.

use openssl::bn::{BigNum, BigNumContext};
use rug::integer::Order;
use rug::Integer;

/// One thread's reusable state for [`Self::proves_composite`].
pub(crate) struct FermatBase2 {
    ctx: BigNumContext,
    two: BigNum,
    one: BigNum,
    modulus: BigNum,
    exponent: BigNum,
    power: BigNum,
    digits: Vec<u8>,
}

impl FermatBase2 {
    /// `None` when OpenSSL cannot allocate; the caller then relies on GMP alone.
    pub(crate) fn new() -> Option<Self> {
        Some(Self {
            ctx: BigNumContext::new().ok()?,
            two: BigNum::from_u32(2).ok()?,
            one: BigNum::from_u32(1).ok()?,
            modulus: BigNum::new().ok()?,
            exponent: BigNum::new().ok()?,
            power: BigNum::new().ok()?,
            digits: Vec::new(),
        })
    }

    /// True when 2^(n−1) ≢ 1 (mod n), which proves the odd n > 2 composite. False means
    /// "maybe prime", including when OpenSSL reports an error.
    pub(crate) fn proves_composite(&mut self, n: &Integer) -> bool {
        self.digits.resize(n.significant_digits::<u8>(), 0);
        n.write_digits(&mut self.digits, Order::Msf);
        self.power_of_two(n.is_odd()).is_some_and(|is_one| !is_one)
    }

    fn power_of_two(&mut self, odd: bool) -> Option<bool> {
        if !odd {
            return None;
        }
        self.modulus.copy_from_slice(&self.digits).ok()?;
        self.exponent.copy_from_slice(&self.digits).ok()?;
        self.exponent.clear_bit(0).ok()?;
        self.power
            .mod_exp(&self.two, &self.exponent, &self.modulus, &mut self.ctx)
            .ok()?;
        Some(self.power == self.one)
    }
}

#[cfg(test)]
mod tests {
    use super::FermatBase2;
    use proptest::prelude::*;
    use rug::integer::IsPrime;
    use rug::Integer;

    /// Base-2 Fermat pseudoprimes (composite, yet 2^(n−1) ≡ 1): the test must not call
    /// them composite; GMP's strong test does.
    #[test]
    fn pseudoprimes_and_primes_are_not_called_composite() {
        let mut fermat = FermatBase2::new().expect("openssl context");
        for n in [341u32, 561, 645, 1105, 1387, 1729, 1905, 2047, 2465, 2701] {
            assert!(!fermat.proves_composite(&Integer::from(n)), "{n}");
        }
        let prime = (Integer::from(1) << 2047u32).next_prime();
        assert!(!fermat.proves_composite(&prime));
        assert!(
            !fermat.proves_composite(&Integer::from(1u32 << 20)),
            "even: no verdict"
        );
    }

    proptest! {
        /// Whenever the pre-test says composite, GMP's test agrees: the search's verdicts
        /// are GMP's.
        #[test]
        fn a_composite_verdict_is_gmps_verdict(
            bytes in proptest::collection::vec(any::<u8>(), 256),
            offset in 0u32..4096,
        ) {
            let mut n = Integer::from_digits(&bytes, rug::integer::Order::Msf);
            n.set_bit(2047, true);
            n.set_bit(0, true);
            n += offset * 2;
            let mut fermat = FermatBase2::new().expect("openssl context");
            if fermat.proves_composite(&n) {
                prop_assert_eq!(n.is_probably_prime(1), IsPrime::No);
            } else {
                prop_assert_ne!(n.is_probably_prime(30), IsPrime::No, "missed composite");
            }
        }
    }
}
