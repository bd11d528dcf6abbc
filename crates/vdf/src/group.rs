//! The class group of one discriminant: squaring (NUDUPL), composition (NUCOMP) and
//! powers, every result reduced to the canonical form.
//!
//! Both algorithms (Shanks' NUCOMP as refined by Jacobson and van der Poorten) keep the
//! intermediate numbers near √|d| instead of |d|, and stop the Euclidean reduction early
//! (at |d|^¼) so the final reduction takes only a step or two.

use crate::form::{Form, ReduceScratch};
use crate::xgcd::{invert, partial_xgcd, XgcdScratch};
use rug::ops::{DivRoundingAssign, NegAssign, RemRoundingAssign};
use rug::{Assign, Integer};

/// A discriminant with everything the group operations need, plus reusable scratch space.
pub struct ClassGroup {
    d: Integer,
    /// ⌊|d|^¼⌋: where the partial Euclid stops.
    bound: Integer,
    s: Scratch,
}

#[derive(Default)]
struct Scratch {
    k: Integer,
    t: Integer,
    u: Integer,
    g: Integer,
    m: Integer,
    ss: Integer,
    a1: Integer,
    a2: Integer,
    c2: Integer,
    r1: Integer,
    r2: Integer,
    co1: Integer,
    co2: Integer,
    m1: Integer,
    m2: Integer,
    /// The b that B is taken against in NUDUPL/NUCOMP's last step.
    b: Integer,
    out: Form0,
    xgcd: XgcdScratch,
    reduce: ReduceScratch,
}

impl Scratch {
    /// NUCOMP when sp = gcd(a2, a1) ≠ 1: fold in gcd(ss, sp) = s = v2·ss + u2·sp.
    fn fold_common_factor(&mut self) {
        let (mut gs, mut v2, mut u2) = (Integer::new(), Integer::new(), Integer::new());
        (&mut gs, &mut v2, &mut u2).assign(self.ss.extended_gcd_ref(&self.g));
        self.k *= &u2;
        self.k -= &v2 * &self.c2;
        if gs != 1 {
            self.a1.div_exact_mut(&gs);
            self.a2.div_exact_mut(&gs);
            self.c2 *= &gs;
        }
        self.k.rem_euc_assign(&self.a1);
    }
}

/// An output form under construction.
#[derive(Default)]
struct Form0 {
    a: Integer,
    b: Integer,
    c: Integer,
}

impl ClassGroup {
    /// The group of discriminant `d` (negative, ≡ 1 mod 8, as `create_discriminant` makes).
    pub fn new(d: Integer) -> ClassGroup {
        let bound = Integer::from(d.abs_ref()).root(4);
        ClassGroup {
            d,
            bound,
            s: Scratch::default(),
        }
    }

    /// The discriminant.
    pub fn discriminant(&self) -> &Integer {
        &self.d
    }

    /// The VDF's starting element for this group.
    pub fn generator(&self) -> Form {
        Form::generator(&self.d)
    }

    /// The neutral element.
    pub fn identity(&self) -> Form {
        Form::identity(&self.d)
    }

    /// Decodes a canonical (reduced) form of this group.
    pub fn decode(&self, bytes: &[u8]) -> Result<Form, crate::VdfError> {
        Form::from_bytes(bytes, &self.d)
    }

    /// `f ← f²`, reduced.
    pub fn square(&mut self, f: &mut Form) {
        let s = &mut self.s;
        // k = −c·b⁻¹ mod a. gcd(a, b) = 1 whenever |d| is prime and a < |d|, which holds
        // for every form we build or accept; anything else takes the general path.
        if !invert(&mut s.k, &f.b, &f.a, &mut s.xgcd) {
            let g = f.clone();
            return self.multiply(f, &g);
        }
        s.k *= &f.c;
        s.k.neg_assign();
        s.k.rem_euc_assign(&f.a);

        if f.a < self.bound {
            // Small a: the plain formula already gives a near-reduced form.
            s.t.assign(&f.a * &s.k);
            s.out.a.assign(f.a.square_ref());
            s.out.b.assign(&f.b + &s.t);
            s.out.c.assign(&s.out.b * &s.k);
            s.out.c += &f.c;
            s.out.c.div_exact_mut(&f.a);
            s.out.b += &s.t;
        } else {
            s.r2.assign(&f.a);
            std::mem::swap(&mut s.r1, &mut s.k);
            partial_xgcd(
                &mut s.co2,
                &mut s.co1,
                &mut s.r2,
                &mut s.r1,
                &self.bound,
                &mut s.xgcd,
            );
            // m2 = (b·r1 − c·co1) / a
            s.m2.assign(&f.b * &s.r1);
            s.m2 -= &f.c * &s.co1;
            s.m2.div_exact_mut(&f.a);
            // A = ±(r1² − co1·m2), sign by co1
            s.out.a.assign(s.r1.square_ref());
            s.out.a -= &s.co1 * &s.m2;
            if s.co1.cmp0().is_ge() {
                s.out.a.neg_assign();
            }
            // B = (2(a·r1 − A·co2)/co1 − b) mod 2A
            s.out.b.assign(&f.a * &s.r1);
            s.out.b -= &s.out.a * &s.co2;
            s.b.assign(&f.b);
            self.finish_from_numerator(f);
            return;
        }
        self.finish(f);
    }

    /// `f ← f·g`, reduced.
    pub fn multiply(&mut self, f: &mut Form, g: &Form) {
        let s = &mut self.s;
        // Work with the smaller `a` as the first operand.
        let (f1, f2): (&Form, &Form) = if f.a > g.a { (g, &*f) } else { (&*f, g) };
        s.a1.assign(&f1.a);
        s.a2.assign(&f2.a);
        s.c2.assign(&f2.c);
        s.ss.assign(&f1.b + &f2.b);
        s.ss >>= 1;
        s.m.assign(&f1.b - &f2.b);
        s.m >>= 1;

        // sp = gcd(a2 mod a1, a1) = v1·(a2 mod a1) + …, k = m·v1 mod a1
        s.t.assign(&s.a2 % &s.a1);
        if s.t.cmp0().is_eq() {
            s.u.assign(0);
            s.g.assign(&s.a1);
        } else {
            (&mut s.g, &mut s.u, &mut s.k).assign(s.t.extended_gcd_ref(&s.a1));
        }
        s.k.assign(&s.m * &s.u);
        s.k.rem_euc_assign(&s.a1);

        if s.g != 1 {
            s.fold_common_factor();
        }

        if s.a1 < self.bound {
            s.t.assign(&s.a2 * &s.k);
            s.out.a.assign(&s.a2 * &s.a1);
            s.out.b.assign(&s.t << 1);
            s.out.b += &f2.b;
            s.out.c.assign(&f2.b + &s.t);
            s.out.c *= &s.k;
            s.out.c += &s.c2;
            s.out.c.div_exact_mut(&s.a1);
        } else {
            s.r2.assign(&s.a1);
            s.r1.assign(&s.k);
            partial_xgcd(
                &mut s.co2,
                &mut s.co1,
                &mut s.r2,
                &mut s.r1,
                &self.bound,
                &mut s.xgcd,
            );
            // m1 = (m·co1 + a2·r1) / a1; m2 = (ss·r1 − c2·co1) / a1
            s.t.assign(&s.a2 * &s.r1);
            s.m1.assign(&s.m * &s.co1);
            s.m1 += &s.t;
            s.m1.div_exact_mut(&s.a1);
            s.m2.assign(&s.ss * &s.r1);
            s.m2 -= &s.c2 * &s.co1;
            s.m2.div_exact_mut(&s.a1);
            // A = −sgn(co1)·(r1·m1 − co1·m2)
            s.out.a.assign(&s.r1 * &s.m1);
            s.out.a -= &s.co1 * &s.m2;
            if s.co1.cmp0().is_ge() {
                s.out.a.neg_assign();
            }
            // B = (2(a2·r1 − A·co2)/co1 − b2) mod 2A
            s.out.b.assign(&s.out.a * &s.co2);
            s.out.b.neg_assign();
            s.out.b += &s.t;
            s.b.assign(&f2.b);
            self.finish_from_numerator(f);
            return;
        }
        self.finish(f);
    }

    /// From the numerator X in `out.b`: B = (2X/co1 − b) mod 2A with b in `s.b`, then
    /// C = (B² − d)/4A, A made positive, and the result reduced into `f`.
    fn finish_from_numerator(&mut self, f: &mut Form) {
        let s = &mut self.s;
        s.out.b <<= 1;
        s.out.b.div_exact_mut(&s.co1);
        s.out.b -= &s.b;
        s.t.assign(&s.out.a << 1);
        s.out.b.rem_floor_assign(&s.t);
        s.out.c.assign(s.out.b.square_ref());
        s.out.c -= &self.d;
        s.out.c.div_exact_mut(&s.out.a);
        s.out.c.div_floor_assign(4);
        if s.out.a.cmp0().is_lt() {
            s.out.a.neg_assign();
            s.out.c.neg_assign();
        }
        self.finish(f);
    }

    fn finish(&mut self, f: &mut Form) {
        let s = &mut self.s;
        std::mem::swap(&mut f.a, &mut s.out.a);
        std::mem::swap(&mut f.b, &mut s.out.b);
        std::mem::swap(&mut f.c, &mut s.out.c);
        f.reduce(&mut s.reduce);
    }

    /// `f ← f^(2^n)`.
    pub fn square_n(&mut self, f: &mut Form, n: u64) {
        for _ in 0..n {
            self.square(f);
        }
    }

    /// `f^e · g^h` for `e, h ≥ 0` in one left-to-right pass (Shamir's trick): one
    /// squaring per bit of the longer exponent, where two powers would take one per bit
    /// of each. A proof check is exactly this product.
    pub fn pow_product(&mut self, f: &Form, e: &Integer, g: &Form, h: &Integer) -> Form {
        let mut fg = f.clone();
        self.multiply(&mut fg, g);
        let mut acc = self.identity();
        for i in (0..e.significant_bits().max(h.significant_bits())).rev() {
            self.square(&mut acc);
            match (e.get_bit(i), h.get_bit(i)) {
                (true, true) => self.multiply(&mut acc, &fg),
                (true, false) => self.multiply(&mut acc, f),
                (false, true) => self.multiply(&mut acc, g),
                (false, false) => {}
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discriminant::create_discriminant;

    /// Textbook composition (Cohen, Algorithm 5.4.7) followed by reduction: slow, simple,
    /// and an independent check of NUCOMP/NUDUPL.
    fn compose_reference(f: &Form, g: &Form, d: &Integer) -> Form {
        let (f, g) = if f.a > g.a { (g, f) } else { (f, g) };
        let s: Integer = Integer::from(&f.b + &g.b) >> 1;
        let n = Integer::from(&g.b - &s);
        let (d0, y1) = if g.a.is_divisible(&f.a) {
            (f.a.clone(), Integer::from(0))
        } else {
            let (d0, u, _) = g.a.clone().extended_gcd(f.a.clone(), Integer::new());
            (d0, u)
        };
        let (d1, x2, y2) = if s.is_divisible(&d0) {
            (d0.clone(), Integer::from(0), Integer::from(-1))
        } else {
            let (d1, x2, y2) = s.clone().extended_gcd(d0.clone(), Integer::new());
            (d1, x2, -y2)
        };
        let v1 = Integer::from(&f.a / &d1);
        let v2 = Integer::from(&g.a / &d1);
        let mut r = Integer::from(&y1 * &y2) * &n - Integer::from(&x2 * &g.c);
        r.rem_euc_assign(&v1);
        let b3: Integer = &g.b + Integer::from(&v2 * &r) * 2;
        let a3 = Integer::from(&v1 * &v2);
        let c3 = (Integer::from(&g.c * &d1) + &r * Integer::from(&g.b + &v2 * &r)) / &v1;
        let mut out = Form {
            a: a3,
            b: b3,
            c: c3,
        };
        assert_eq!(
            Integer::from(out.b.square_ref()) - Integer::from(&out.a * &out.c) * 4,
            *d
        );
        out.reduce(&mut ReduceScratch::default());
        out
    }

    fn sample_forms(g: &mut ClassGroup, n: usize) -> Vec<Form> {
        let mut f = g.generator();
        let mut out = vec![f.clone()];
        let mut h = g.generator();
        for i in 0..n {
            g.square(&mut f);
            g.multiply(&mut h, &f);
            out.push(if i % 2 == 0 { f.clone() } else { h.clone() });
        }
        out
    }

    #[test]
    fn nudupl_and_nucomp_agree_with_textbook_composition() {
        for seed in [&b"\xaa"[..], b"qnode", b""] {
            let d = create_discriminant(seed);
            let mut g = ClassGroup::new(d.clone());
            let forms = sample_forms(&mut g, 40);
            for (i, f) in forms.iter().enumerate() {
                assert!(f.is_reduced());
                let mut sq = f.clone();
                g.square(&mut sq);
                assert_eq!(sq, compose_reference(f, f, &d), "square of form {i}");
                let other = &forms[(i * 7 + 3) % forms.len()];
                let mut prod = f.clone();
                g.multiply(&mut prod, other);
                assert_eq!(prod, compose_reference(f, other, &d), "product {i}");
            }
        }
    }

    #[test]
    fn pow_product_agrees_with_repeated_multiplication() {
        let mut g = ClassGroup::new(create_discriminant(b"pow"));
        let x = g.generator();
        let mut y = x.clone();
        g.square_n(&mut y, 5);
        let power = |g: &mut ClassGroup, f: &Form, e: u32| {
            let mut acc = g.identity();
            (0..e).for_each(|_| g.multiply(&mut acc, f));
            acc
        };
        for e in 0u32..40 {
            let h = (e * 7 + 3) % 37;
            let mut expect = power(&mut g, &x, e);
            let yh = power(&mut g, &y, h);
            g.multiply(&mut expect, &yh);
            let got = g.pow_product(&x, &Integer::from(e), &y, &Integer::from(h));
            assert_eq!(got, expect, "x^{e} · y^{h}");
        }
        let none = g.pow_product(&x, &Integer::new(), &y, &Integer::new());
        assert_eq!(none, g.identity());
    }

    #[test]
    fn identity_is_neutral_and_inverse_cancels() {
        let mut g = ClassGroup::new(create_discriminant(b"id"));
        let mut x = g.generator();
        g.square_n(&mut x, 17);
        let mut y = x.clone();
        g.multiply(&mut y, &g.identity());
        assert_eq!(y, x);
        let inv = Form {
            a: x.a.clone(),
            b: Integer::from(-&x.b),
            c: x.c.clone(),
        };
        let mut inv = inv;
        inv.reduce(&mut ReduceScratch::default());
        g.multiply(&mut y, &inv);
        assert_eq!(y, g.identity());
    }
}
