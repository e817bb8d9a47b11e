//! Verified headers in IndexedDB: the best chain by height (128 raw bytes
//! each) and the tip's chain work. A reload resumes from here and verifies
//! only what is new; only a window of recent headers stays in memory, older
//! ones are read back on demand.

use blockchain_core::header_chain::HeaderChain;
use blockchain_core::{Decode, Encode, Header, Params, Work};
use wasm_bindgen::prelude::*;

use crate::error::{ClientError, ErrorCode, Result};
use crate::idb::Database;
use crate::js::{bytes_of, get, object, uint8_array};

const HEADERS: &str = "headers";
const META: &str = "meta";
const STORES: &[&str] = &[HEADERS, META];
const TIP_KEY: &str = "tip";

/// Headers kept in memory (and verified against on resume): enough for
/// any reorg a light client follows, the median time past and ASERT.
pub(crate) const MEMORY_WINDOW: u64 = 2048;

/// The store of one network.
#[derive(Clone, Debug)]
pub(crate) struct HeaderStore {
    db: Database,
}

fn corrupt(what: &str) -> ClientError {
    ClientError::new(ErrorCode::Internal, format!("stored headers: {what}"))
}

fn decode_header(value: &JsValue) -> Result<Header> {
    Header::decode(&bytes_of(value)).map_err(|error| corrupt(&error.to_string()))
}

impl HeaderStore {
    /// Opens the store of `params`' network.
    pub(crate) async fn open(params: &Params) -> Result<HeaderStore> {
        let db = Database::open(&format!("blockchain-{}-headers", params.name), STORES).await?;
        Ok(HeaderStore { db })
    }

    /// The stored chain, or `None` when nothing is stored yet (or what is
    /// stored does not fit together: then the sync starts over).
    pub(crate) async fn load(&self, params: &'static Params) -> Result<Option<HeaderChain>> {
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
        let values = self
            .db
            .get_range(HEADERS, from as f64, height as f64)
            .await?;
        let headers = values
            .iter()
            .map(decode_header)
            .collect::<Result<Vec<_>>>()?;
        let anchor = match self.db.get(HEADERS, &JsValue::from_f64(1.0)).await? {
            value if value.is_undefined() => None,
            value => Some(decode_header(&value)?),
        };
        let mut work_bytes = [0u8; 32];
        if hex::decode_to_slice(&work_hex, &mut work_bytes).is_err() {
            return Ok(None);
        }
        let tip_work = Work::from_be_bytes(work_bytes);
        Ok(HeaderChain::from_checkpoint(params, anchor.as_ref(), &headers, tip_work).ok())
    }

    /// Stores best-chain headers (consecutive, ending at the new tip) and
    /// the tip's work; drops stored headers above the new tip.
    pub(crate) async fn save(&self, headers: &[Header], tip_work: Work) -> Result<()> {
        let Some(last) = headers.last() else {
            return Ok(());
        };
        let entries: Vec<(JsValue, JsValue)> = headers
            .iter()
            .map(|header| {
                (
                    JsValue::from_f64(header.height as f64),
                    uint8_array(&header.encode()).into(),
                )
            })
            .collect();
        self.db.put_all(HEADERS, &entries).await?;
        self.db
            .delete_range(HEADERS, (last.height + 1) as f64, 2f64.powi(53))
            .await?;
        let tip = object(&[
            ("height", JsValue::from_f64(last.height as f64)),
            ("hash", JsValue::from_str(&last.hash().to_string())),
            (
                "work",
                JsValue::from_str(&hex::encode(tip_work.to_be_bytes())),
            ),
        ]);
        self.db
            .put_all(META, &[(JsValue::from_str(TIP_KEY), tip.into())])
            .await
    }

    /// Stored best-chain headers from `from`, at most `count`.
    pub(crate) async fn range(&self, from: u64, count: u64) -> Result<Vec<Header>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let values = self
            .db
            .get_range(HEADERS, from as f64, (from + count - 1) as f64)
            .await?;
        values.iter().map(decode_header).collect()
    }
}
