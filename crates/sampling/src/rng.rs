//! The seeded random source the crate owns, so `--seed` reproduces the same tokens everywhere.
//!
//! xoshiro256** (Blackman & Vigna, 2018), seeded through SplitMix64. It is pure 64-bit
//! integer arithmetic, so the stream depends only on the seed: not on the platform, the
//! version of an external `rand` crate, or any thread-local state. Changing this file
//! changes every seeded output; the golden-value tests below guard against that.

/// A small, fast, seedable pseudo-random generator (xoshiro256**).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    /// Expands `seed` into the 256-bit state with SplitMix64, as the xoshiro authors recommend.
    ///
    /// SplitMix64 is a bijection of a counter, so its outputs are never all zero (the one
    /// state xoshiro must avoid).
    pub fn new(seed: u64) -> Self {
        let mut counter = seed;
        let state = [
            splitmix64(&mut counter),
            splitmix64(&mut counter),
            splitmix64(&mut counter),
            splitmix64(&mut counter),
        ];
        Self { state }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform draw in `[0, 1)` built from the top 53 bits (every value exactly representable).
    pub fn next_f64(&mut self) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * SCALE
    }
}

/// SplitMix64 (Steele, Lea & Flood, 2014): one step of the seed expander.
fn splitmix64(counter: &mut u64) -> u64 {
    *counter = counter.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *counter;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_reference_vector() {
        // First output of the reference SplitMix64 for seed 0.
        let mut counter = 0;
        assert_eq!(splitmix64(&mut counter), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn xoshiro256_starstar_matches_hand_computed_steps() {
        // State {1, 2, 3, 4}: first output rotl(2*5, 7)*9 = 11520, then s[1] becomes 0.
        let mut rng = Rng {
            state: [1, 2, 3, 4],
        };
        assert_eq!(rng.next_u64(), 11520);
        assert_eq!(rng.next_u64(), 0);
    }

    #[test]
    fn seeded_stream_is_frozen() {
        // Golden values: if these change, every `--seed` run changes. Do not update lightly.
        let mut rng = Rng::new(42);
        let got: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(got, GOLDEN_SEED_42);
    }

    // Cross-checked against an independent Python transcription of the reference C code.
    const GOLDEN_SEED_42: [u64; 3] = [
        1_546_998_764_402_558_742,
        6_990_951_692_964_543_102,
        12_544_586_762_248_559_009,
    ];

    #[test]
    fn unit_interval() {
        let mut rng = Rng::new(7);
        for _ in 0..10_000 {
            let u = rng.next_f64();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
