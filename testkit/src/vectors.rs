//! The RSA-3072 test-vector keys made by Python `cryptography`
//! (core/tests/data/rsa.json), and the repository's other test data.

use std::sync::OnceLock;

use blockchain_core::crypto::SigningKey;
use serde_json::Value;

const RSA_VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../core/tests/data/rsa.json"
));

/// How many keys rsa.json holds.
pub const VECTOR_KEYS: usize = 3;

/// core/tests/data/rsa.json.
pub fn rsa_vectors() -> &'static Value {
    static VECTORS: OnceLock<Value> = OnceLock::new();
    VECTORS.get_or_init(|| serde_json::from_str(RSA_VECTORS).expect("rsa.json is JSON"))
}

/// One of the vector keys, with what rsa.json says about it.
#[derive(Debug, Clone)]
pub struct VectorKey {
    pub key: SigningKey,
    /// SPKI DER, hex.
    pub spki: String,
    /// Regtest address.
    pub address: String,
    /// The same key's devnet address.
    pub devnet_address: String,
}

/// Vector key `index` (below [`VECTOR_KEYS`]); its public key checked
/// against the SPKI the file lists.
pub fn vector_key(index: usize) -> VectorKey {
    let vector = &rsa_vectors()["keys"][index];
    let text = |name: &str| {
        vector[name]
            .as_str()
            .unwrap_or_else(|| panic!("vector key {index} has {name}"))
            .to_owned()
    };
    let der = hex::decode(text("pkcs8")).expect("pkcs8 is hex");
    let key = SigningKey::from_pkcs8_der(&der).expect("the vector keys are valid RSA-3072 keys");
    let spki = text("spki");
    assert_eq!(
        hex::encode(key.public_key().to_spki_der()),
        spki,
        "vector key {index}"
    );
    VectorKey {
        key,
        spki,
        address: text("rblk"),
        devnet_address: text("tblk"),
    }
}

/// The signing key of vector key `index`.
pub fn vector_signing_key(index: usize) -> SigningKey {
    vector_key(index).key
}

/// Every vector key's signing key, in file order.
pub fn vector_signing_keys() -> Vec<SigningKey> {
    (0..VECTOR_KEYS).map(vector_signing_key).collect()
}

/// The regtest address of vector key `index`.
pub fn vector_address(index: usize) -> String {
    rsa_vectors()["keys"][index]["rblk"]
        .as_str()
        .unwrap_or_else(|| panic!("vector key {index} has an address"))
        .to_owned()
}

/// A JSON file of the repository, by its path from the repository's root
/// (e.g. `tests/data/rest_transactions.json`).
pub fn repository_json(path: &str) -> Value {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("reading {full}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{full} is not JSON: {error}"))
}
