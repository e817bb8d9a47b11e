//! Any text given as a keystore is a clear error or a keystore; opening one
//! never panics. (Large iteration counts are skipped to keep runs fast.)
#![no_main]

use blockchain_core::keystore::Keystore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(keystore) = Keystore::from_json(text) {
        let _ = keystore.network();
        let _ = keystore.address();
        if keystore.encrypted_private_key.iterations <= 16 {
            let _ = keystore.decrypt("password");
        }
    }
});
