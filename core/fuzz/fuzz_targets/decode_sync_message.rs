//! Sync-protocol requests and responses, as read from any peer, decode only
//! from their canonical encoding and never panic.
#![no_main]

use blockchain_core::sync_message::{SyncRequest, SyncResponse};
use blockchain_core::{Decode, Encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = SyncRequest::decode(data) {
        assert_eq!(request.encode(), data);
    }
    if let Ok(response) = SyncResponse::decode(data) {
        assert_eq!(response.encode(), data);
    }
});
