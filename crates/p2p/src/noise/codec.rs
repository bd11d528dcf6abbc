//! Noise messages on the wire: each one a 2-byte big-endian length and that many bytes,
//! encrypted by the handshake state while the handshake runs and by the transport state
//! after it.

use asynchronous_codec::{Decoder, Encoder};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::io;

/// The longest Noise message: its length must fit the 2-byte prefix.
pub(crate) const MAX_MESSAGE: usize = u16::MAX as usize;
/// ChaChaPoly's tag.
const TAG: usize = 16;
/// The most plaintext one transport message carries.
pub(crate) const MAX_PLAINTEXT: usize = MAX_MESSAGE - TAG;

/// What encrypts and decrypts a message: snow's handshake state (whose messages also
/// carry keys) or its transport state.
pub(crate) trait Cipher {
    fn encrypt(&mut self, plain: &[u8], out: &mut [u8]) -> Result<usize, snow::Error>;
    fn decrypt(&mut self, message: &[u8], out: &mut [u8]) -> Result<usize, snow::Error>;
}

impl Cipher for snow::HandshakeState {
    fn encrypt(&mut self, plain: &[u8], out: &mut [u8]) -> Result<usize, snow::Error> {
        self.write_message(plain, out)
    }

    fn decrypt(&mut self, message: &[u8], out: &mut [u8]) -> Result<usize, snow::Error> {
        self.read_message(message, out)
    }
}

impl Cipher for snow::TransportState {
    fn encrypt(&mut self, plain: &[u8], out: &mut [u8]) -> Result<usize, snow::Error> {
        self.write_message(plain, out)
    }

    fn decrypt(&mut self, message: &[u8], out: &mut [u8]) -> Result<usize, snow::Error> {
        self.read_message(message, out)
    }
}

/// Length-prefixed Noise messages over a byte stream.
pub(crate) struct Codec<S> {
    pub(crate) session: S,
    scratch: Vec<u8>,
}

impl<S> Codec<S> {
    pub(crate) fn new(session: S) -> Self {
        Codec {
            session,
            scratch: vec![0; MAX_MESSAGE],
        }
    }
}

fn invalid(e: snow::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<S: Cipher> Encoder for Codec<S> {
    type Item<'a> = &'a [u8];
    type Error = io::Error;

    fn encode(&mut self, plain: &[u8], dst: &mut BytesMut) -> Result<(), io::Error> {
        let len = self
            .session
            .encrypt(plain, &mut self.scratch)
            .map_err(invalid)?;
        let prefix = u16::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "noise message too long"))?;
        dst.reserve(2 + len);
        dst.put_u16(prefix);
        dst.extend_from_slice(&self.scratch[..len]);
        Ok(())
    }
}

impl<S: Cipher> Decoder for Codec<S> {
    type Item = Bytes;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, io::Error> {
        let Some(prefix) = src.get(..2) else {
            return Ok(None);
        };
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        if src.len() < 2 + len {
            src.reserve(2 + len - src.len());
            return Ok(None);
        }
        src.advance(2);
        let message = src.split_to(len);
        let plain = self
            .session
            .decrypt(&message, &mut self.scratch)
            .map_err(invalid)?;
        Ok(Some(Bytes::copy_from_slice(&self.scratch[..plain])))
    }
}
