//! The server's codec: tonic-prost's, except that a request whose bytes do not decode is
//! answered INVALID_ARGUMENT instead of INTERNAL.
//!
//! Why a codec and not a layer: the decoder is the one place that knows a failure is a
//! `prost::DecodeError` in the client's bytes, so nothing has to recognise tonic's message
//! text afterwards. Only the generated server uses it (see build.rs); the generated client
//! keeps tonic-prost's codec, because a reply that does not decode is the server's fault.
//! The status carries no details: the acceptance edge in the switch gives every status
//! tonic produces before a handler runs its `ErrorInfo`.
use std::marker::PhantomData;

use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstDecoder, ProstEncoder};

/// Encodes replies of type `T` and decodes requests of type `U`.
#[derive(Debug, Clone)]
pub struct RequestCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

/// tonic-prost's decoder with the client's bad bytes reported as its own fault.
#[derive(Debug, Clone, Default)]
pub struct RequestDecoder<U> {
    inner: ProstDecoder<U>,
}

// === impl RequestCodec ===

impl<T, U> Default for RequestCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for RequestCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder {
            inner: ProstDecoder::default(),
        }
    }
}

// === impl RequestDecoder ===

impl<U: Message + Default> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        // ProstDecoder fails only with a prost::DecodeError, as INTERNAL.
        self.inner.decode(buf).map_err(|status| {
            Status::invalid_argument(format!(
                "the request is not a valid protobuf message for this RPC ({})",
                status.message()
            ))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}
