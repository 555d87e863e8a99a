//! wechatpay adapter (being written).
#![forbid(unsafe_code)]
