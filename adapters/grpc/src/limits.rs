//! Every bound the adapter and the reference partner hold to, in one place.

/// Largest message either side sends or reads, by default. The switch's requests are a few
/// hundred bytes; a profile with every pattern is a few KiB.
pub const MESSAGE_BYTES_DEFAULT: usize = 64 * 1024;
/// The range `message_bytes_max` may be configured in.
pub const MESSAGE_BYTES_MIN: usize = 4 * 1024;
pub const MESSAGE_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Connecting (TCP and TLS) to the partner, by default; at most the call timeout is used.
pub const CONNECT_TIMEOUT_MS_DEFAULT: u64 = 3_000;
pub const CONNECT_TIMEOUT_MS_MAX: u64 = 30_000;
/// How long the switch waits for `GetProfile` at start before refusing to start.
pub const PROFILE_FETCH_TIMEOUT_MS: u64 = 10_000;

/// A profile's timings must be positive and below these.
pub const CALL_TIMEOUT_MS_MAX: u32 = 60_000;
pub const TIMING_MS_MAX: u32 = 600_000;

pub const NETWORK_ID_CHARS_MAX: usize = 32;
pub const CODE_PATTERNS_MAX: usize = 64;
/// ISO 18245-style prefixes are short; 19 digits is the longest PAN-like prefix we accept.
pub const CODE_PREFIX_DIGITS_MAX: usize = 19;
pub const CURRENCIES_MAX: usize = 16;
/// Display names, brands, network codes and transaction ids from a partner.
pub const TEXT_CHARS_MAX: usize = 64;
/// A partner's free text (details, error messages) kept for logs.
pub const DETAIL_CHARS_MAX: usize = 200;
pub const QR_PAYLOAD_CHARS_MAX: usize = 512;

const _: () = assert!(MESSAGE_BYTES_MIN <= MESSAGE_BYTES_DEFAULT);
const _: () = assert!(MESSAGE_BYTES_DEFAULT <= MESSAGE_BYTES_MAX);
const _: () = assert!(CONNECT_TIMEOUT_MS_DEFAULT <= CONNECT_TIMEOUT_MS_MAX);
const _: () = assert!(CALL_TIMEOUT_MS_MAX <= TIMING_MS_MAX);
const _: () = assert!(CODE_PREFIX_DIGITS_MAX < kakehashi_adapter_core::code::CODE_LENGTH_MAX);
