//! The request-response codec of `/blockchain/<network>/sync/1`: one
//! message per stream direction, read to the end under a size limit and
//! decoded strictly with the core's `sync_message` types.

use std::io;

use blockchain_core::sync_message::{
    MAX_REQUEST_SIZE, MAX_RESPONSE_SIZE, SyncRequest, SyncResponse,
};
use blockchain_core::{Decode, Encode};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;

/// The sync protocol's codec.
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncCodec;

/// Reads the whole stream, refusing more than `limit` bytes.
async fn read_limited<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    limit: usize,
) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io.take(limit as u64 + 1).read_to_end(&mut bytes).await?;
    if bytes.len() > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message over {limit} bytes"),
        ));
    }
    Ok(bytes)
}

fn invalid(error: blockchain_core::DecodeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error.to_string())
}

impl Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_limited(io, MAX_REQUEST_SIZE).await?;
        SyncRequest::decode(&bytes).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_limited(io, MAX_RESPONSE_SIZE).await?;
        SyncResponse::decode(&bytes).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: SyncRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&request.encode()).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: SyncResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&response.encode()).await?;
        io.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::BlockHash;

    const PROTOCOL: StreamProtocol = StreamProtocol::new("/blockchain/regtest/sync/1");

    #[test]
    fn a_request_round_trips_through_a_stream() {
        futures::executor::block_on(async {
            let request = SyncRequest::GetHeaders {
                locator: vec![BlockHash([3; 32])],
                max: 10,
            };
            let mut wire = futures::io::Cursor::new(Vec::new());
            SyncCodec
                .write_request(&PROTOCOL, &mut wire, request.clone())
                .await
                .expect("written");
            let mut reader = futures::io::Cursor::new(wire.into_inner());
            let read = SyncCodec
                .read_request(&PROTOCOL, &mut reader)
                .await
                .expect("read");
            assert_eq!(read, request);
        });
    }

    #[test]
    fn garbage_and_oversized_messages_are_invalid_data() {
        futures::executor::block_on(async {
            let mut garbage = futures::io::Cursor::new(vec![0x42, 1, 2, 3]);
            let error = SyncCodec
                .read_request(&PROTOCOL, &mut garbage)
                .await
                .expect_err("refused");
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
            let mut huge = futures::io::Cursor::new(vec![1u8; MAX_REQUEST_SIZE + 1]);
            let error = SyncCodec
                .read_request(&PROTOCOL, &mut huge)
                .await
                .expect_err("refused");
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        });
    }
}
