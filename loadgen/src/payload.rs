//! Deterministic message contents, so echoes can be checked without keeping a copy.
//!
//! Every message is identified by `(connection id, sequence number)`. From that pair we
//! derive a 64-bit *seed*, and byte `k` of the message is byte `k % 8` of the 64-bit word
//! `word(seed, k / 8)`. The word function is the SplitMix64 finaliser applied to
//! `seed + (index + 1) * GOLDEN_GAMMA`, i.e. SplitMix64 used as a *counter-based*
//! generator: any word can be computed directly from its index, without stepping through
//! the ones before it.
//!
//! That "random access" property is what keeps the load generator lean:
//!
//! * The sender never stores what it sent. If the kernel only accepts part of a batch, the
//!   rest is simply generated again, starting at the right offset, on the next attempt.
//! * The receiver never stores what it expects. Echoed bytes arrive in arbitrary pieces;
//!   for each piece we know which message and which offset it belongs to, regenerate those
//!   bytes into a small stack buffer and compare.
//!
//! The data is not cryptographically random, and does not need to be: it only has to make
//! a lost, duplicated, reordered or flipped byte show up as a mismatch with overwhelming
//! probability, which a well-mixed 64-bit generator does.

/// The odd constant SplitMix64 adds per step: 2^64 divided by the golden ratio.
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 output function: a bijective mix of all 64 input bits.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of message number `seq` on connection `conn`.
///
/// Mixing the connection id first and then the sequence number makes seeds of neighbouring
/// messages (and neighbouring connections) unrelated, so a server that delivers bytes to
/// the wrong connection, or repeats an old message, is caught.
#[inline]
pub fn seed(conn: u64, seq: u64) -> u64 {
    mix(mix(conn.wrapping_add(1)).wrapping_add(seq))
}

/// Word number `index` (bytes `8 * index .. 8 * index + 8`) of the message with `seed`.
#[inline]
fn word(seed: u64, index: u64) -> [u8; 8] {
    mix(seed.wrapping_add(index.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA))).to_le_bytes()
}

/// Writes bytes `offset .. offset + out.len()` of the message with `seed` into `out`.
pub fn fill(seed: u64, offset: usize, out: &mut [u8]) {
    let mut index = (offset / 8) as u64;
    let mut skip = offset % 8; // bytes of the first word that lie before `offset`
    let mut pos = 0;
    while pos < out.len() {
        let bytes = word(seed, index);
        let take = (8 - skip).min(out.len() - pos);
        out[pos..pos + take].copy_from_slice(&bytes[skip..skip + take]);
        pos += take;
        skip = 0;
        index += 1;
    }
}

/// Size of the stack buffer used when checking received bytes.
const CHECK_CHUNK: usize = 256;

/// Counts the bytes of `data` that differ from bytes `offset .. offset + data.len()` of the
/// message with `seed`. Zero means the echo was correct.
///
/// The expected bytes are regenerated in stack-sized chunks and compared with a slice
/// equality (a `memcmp`); only a chunk that differs is examined byte by byte.
pub fn count_mismatches(seed: u64, offset: usize, data: &[u8]) -> usize {
    let mut expected = [0u8; CHECK_CHUNK];
    let mut mismatches = 0;
    let mut done = 0;
    while done < data.len() {
        let len = CHECK_CHUNK.min(data.len() - done);
        fill(seed, offset + done, &mut expected[..len]);
        let got = &data[done..done + len];
        if got != &expected[..len] {
            mismatches += got
                .iter()
                .zip(&expected[..len])
                .filter(|(a, b)| a != b)
                .count();
        }
        done += len;
    }
    mismatches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(conn: u64, seq: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0; len];
        fill(seed(conn, seq), 0, &mut buf);
        buf
    }

    #[test]
    fn same_inputs_give_same_bytes() {
        assert_eq!(message(3, 7, 100), message(3, 7, 100));
        assert_eq!(seed(3, 7), seed(3, 7));
    }

    #[test]
    fn different_messages_differ() {
        let base = message(1, 1, 64);
        assert_ne!(
            base,
            message(1, 2, 64),
            "next message on the same connection"
        );
        assert_ne!(
            base,
            message(2, 1, 64),
            "same message number on another connection"
        );
        assert_ne!(seed(0, 1), seed(1, 0));
    }

    #[test]
    fn a_shorter_message_is_a_prefix_of_a_longer_one() {
        let long = message(5, 9, 1000);
        assert_eq!(&long[..37], &message(5, 9, 37)[..]);
    }

    #[test]
    fn filling_from_any_offset_matches_filling_from_the_start() {
        let whole = message(4, 2, 300);
        for offset in [0, 1, 7, 8, 9, 63, 64, 250] {
            for len in [0, 1, 5, 8, 17, 300 - offset] {
                let len = len.min(300 - offset);
                let mut part = vec![0; len];
                fill(seed(4, 2), offset, &mut part);
                assert_eq!(
                    part,
                    &whole[offset..offset + len],
                    "offset {offset} len {len}"
                );
            }
        }
    }

    #[test]
    fn bytes_look_random_enough() {
        // Not a statistical test, just a guard against a broken mixer (e.g. all zeros).
        let data = message(0, 0, 4096);
        let mut seen = [false; 256];
        data.iter().for_each(|&b| seen[b as usize] = true);
        assert!(seen.iter().filter(|&&s| s).count() > 240);
    }

    #[test]
    fn mismatches_are_counted_per_byte() {
        let s = seed(8, 8);
        let mut data = message(8, 8, 1000);
        assert_eq!(count_mismatches(s, 0, &data), 0);
        assert_eq!(count_mismatches(s, 100, &data[100..900]), 0);
        data[10] ^= 1;
        data[500] ^= 0x80;
        data[999] = data[999].wrapping_add(1);
        assert_eq!(count_mismatches(s, 0, &data), 3);
        assert_eq!(count_mismatches(s, 400, &data[400..]), 2);
        // Bytes of a different message (wrong connection) almost all differ.
        assert!(count_mismatches(seed(9, 8), 0, &message(8, 8, 1000)) > 900);
    }
}
