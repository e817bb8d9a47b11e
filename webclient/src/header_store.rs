//! Verified headers in IndexedDB: the best chain in chunks of
//! [`CHUNK`] headers (chunk `k` holds heights `k * CHUNK ..`, 128 raw bytes
//! each, one `Uint8Array` value), and the tip's chain work. A chunk is one
//! value, so a sync batch of 2000 headers is a handful of writes in one
//! transaction, not 2000. A reload resumes from here and verifies only what
//! is new; only a window of recent headers stays in memory, older ones are
//! read back on demand.

use blockchain_core::header_chain::HeaderChain;
use blockchain_core::{Decode, Encode, Header, Params, Work};
use wasm_bindgen::prelude::*;

use crate::error::{ClientError, ErrorCode, Result};
use crate::idb::Database;
use crate::js::{bytes_of, get, object, uint8_array};

const CHUNKS: &str = "chunks";
const META: &str = "meta";
const STORES: &[&str] = &[CHUNKS, META];
const TIP_KEY: &str = "tip";
/// Databases of earlier layouts, deleted on open.
const OLD_DATABASES: &[&str] = &["headers"];

/// Headers per stored chunk (64 KB).
pub(crate) const CHUNK: u64 = 512;

/// Headers kept in memory (and verified against on resume): enough for
/// any reorg a light client follows, the median time past and ASERT.
pub(crate) const MEMORY_WINDOW: u64 = 2048;

/// The store of one network.
#[derive(Clone, Debug)]
pub(crate) struct HeaderStore {
    db: Database,
    params: &'static Params,
}

fn corrupt(what: &str) -> ClientError {
    ClientError::new(ErrorCode::Internal, format!("stored headers: {what}"))
}

fn chunk_key(chunk: u64) -> JsValue {
    JsValue::from_f64(chunk as f64)
}

/// The headers of a chunk's raw bytes.
fn decode_chunk(bytes: &[u8]) -> Result<Vec<Header>> {
    if !bytes.len().is_multiple_of(Header::SIZE) {
        return Err(corrupt("a chunk is not whole headers"));
    }
    bytes
        .chunks(Header::SIZE)
        .map(|raw| Header::decode(raw).map_err(|error| corrupt(&error.to_string())))
        .collect()
}

impl HeaderStore {
    /// Opens the store of `params`' network.
    pub(crate) async fn open(params: &'static Params) -> Result<HeaderStore> {
        for old in OLD_DATABASES {
            crate::idb::delete_database(&format!("blockchain-{}-{old}", params.name));
        }
        let db = Database::open(&format!("blockchain-{}-chain", params.name), STORES).await?;
        Ok(HeaderStore { db, params })
    }

    /// The stored chain, or `None` when nothing is stored yet (or what is
    /// stored does not fit together: then the sync starts over).
    pub(crate) async fn load(&self) -> Result<Option<HeaderChain>> {
        let tip = self.db.get(META, &JsValue::from_str(TIP_KEY)).await?;
        if tip.is_undefined() || tip.is_null() {
            return Ok(None);
        }
        let Some(height) = get(&tip, "height").as_f64() else {
            return Ok(None);
        };
        let Some(work_hex) = get(&tip, "work").as_string() else {
            return Ok(None);
        };
        let height = height as u64;
        let from = height.saturating_sub(MEMORY_WINDOW - 1);
        let headers = self.range(from, height - from + 1).await?;
        if headers.len() as u64 != height - from + 1 {
            return Ok(None);
        }
        let anchor = self.range(1, 1).await?.pop();
        let mut work_bytes = [0u8; 32];
        if hex::decode_to_slice(&work_hex, &mut work_bytes).is_err() {
            return Ok(None);
        }
        let tip_work = Work::from_be_bytes(work_bytes);
        Ok(HeaderChain::from_checkpoint(self.params, anchor.as_ref(), &headers, tip_work).ok())
    }

    /// Stores best-chain headers (consecutive, ending at the new tip,
    /// following stored headers or starting at height 1) and the tip's
    /// work, in one transaction; drops stored headers above the new tip.
    pub(crate) async fn save(&self, headers: &[Header], tip_work: Work) -> Result<()> {
        let (Some(first), Some(last)) = (headers.first(), headers.last()) else {
            return Ok(());
        };
        // The first chunk keeps what is stored below `first`.
        let first_chunk = first.height / CHUNK;
        let mut bytes = Vec::with_capacity((headers.len() + CHUNK as usize) * Header::SIZE);
        if first.height % CHUNK != 0 {
            let kept = (first.height % CHUNK) as usize * Header::SIZE;
            let mut stored = bytes_of(&self.db.get(CHUNKS, &chunk_key(first_chunk)).await?);
            if first_chunk == 0 && stored.is_empty() {
                // Nothing stored yet: the chain starts at genesis.
                stored = self.params.genesis_header().encode();
            }
            if stored.len() < kept {
                return Err(corrupt("a gap below the headers to store"));
            }
            bytes.extend_from_slice(&stored[..kept]);
        } else if first_chunk == 0 {
            bytes.extend_from_slice(&self.params.genesis_header().encode());
        }
        for header in headers {
            if header.height == 0 {
                continue;
            }
            bytes.extend_from_slice(&header.encode());
        }
        let writes = self.db.write(STORES)?;
        let chunk_bytes = CHUNK as usize * Header::SIZE;
        for (index, chunk) in bytes.chunks(chunk_bytes).enumerate() {
            writes.put(
                CHUNKS,
                &chunk_key(first_chunk + index as u64),
                &uint8_array(chunk).into(),
            )?;
        }
        writes.delete_range(CHUNKS, (last.height / CHUNK + 1) as f64, 2f64.powi(53))?;
        let tip = object(&[
            ("height", JsValue::from_f64(last.height as f64)),
            ("hash", JsValue::from_str(&last.hash().to_string())),
            (
                "work",
                JsValue::from_str(&hex::encode(tip_work.to_be_bytes())),
            ),
        ]);
        writes.put(META, &JsValue::from_str(TIP_KEY), &tip.into())?;
        writes.commit().await
    }

    /// Stored best-chain headers from `from`, at most `count` (fewer when
    /// the store ends first).
    pub(crate) async fn range(&self, from: u64, count: u64) -> Result<Vec<Header>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let to = from + count - 1;
        let values = self
            .db
            .get_range(CHUNKS, (from / CHUNK) as f64, (to / CHUNK) as f64)
            .await?;
        let mut headers = Vec::with_capacity(count as usize);
        let mut expected = from / CHUNK * CHUNK;
        for value in &values {
            for header in decode_chunk(&bytes_of(value))? {
                if header.height != expected {
                    return Err(corrupt("headers out of place"));
                }
                expected += 1;
                if (from..=to).contains(&header.height) {
                    headers.push(header);
                }
            }
        }
        Ok(headers)
    }
}
