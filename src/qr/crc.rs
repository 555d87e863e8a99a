//! The payload checksum: CRC-16/CCITT-FALSE, catalogued as CRC-16/IBM-3740.
//!
//! EMVCo (via ISO/IEC 13239): polynomial `0x1021`, initial value `0xFFFF`, no reflection, no
//! final XOR, over the UTF-8 bytes of every object in payload order plus the CRC's own ID and
//! length (`6304`), written as four uppercase hex digits. We take the algorithm from the `crc`
//! crate's catalogue rather than hand-write it, and pin it to the catalogue's check value and
//! to published payloads below, so a wrong variant (XMODEM's init `0x0000`, say) cannot pass.
use crc::{CRC_16_IBM_3740, Crc};

const CCITT_FALSE: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);

/// CRC-16/CCITT-FALSE of `bytes`.
pub fn checksum(bytes: &[u8]) -> u16 {
    CCITT_FALSE.checksum(bytes)
}

/// The four uppercase hex digits EMVCo writes after `6304`.
pub fn to_hex(crc: u16) -> String {
    format!("{crc:04X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_catalogue_check_value() {
        assert_eq!(checksum(b"123456789"), 0x29B1);
    }

    #[test]
    fn matches_the_goldens_of_an_independent_implementation() {
        // mercari/go-emv-code crc16/crc16_test.go, and the empty input (the initial value).
        assert_eq!(checksum(b""), 0xFFFF);
        assert_eq!(checksum(b"a"), 0x9D77);
        assert_eq!(checksum(b"abc"), 0x514A);
        assert_eq!(checksum(b"abcdefghij"), 0x4213);
    }

    #[test]
    fn covers_the_crc_id_and_length_and_the_utf8_bytes() {
        // The EMVCo specification's sample (E1): A13A only over UTF-8 and with `6304` included.
        let e1 = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
        let covered = &e1[..e1.len() - 4];
        assert_eq!(checksum(covered.as_bytes()), 0xA13A);
        let without_crc_header = &e1[..e1.len() - 8];
        assert_eq!(checksum(without_crc_header.as_bytes()), 0x54C4);
    }

    #[test]
    fn writes_four_uppercase_digits() {
        assert_eq!(to_hex(0x007B), "007B");
        assert_eq!(to_hex(0xa13a), "A13A");
    }
}
