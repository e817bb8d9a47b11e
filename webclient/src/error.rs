//! Errors with the stable codes of DESIGN §5. A rejected promise carries a
//! JS `Error` whose `code` property is one of these.

use core::fmt;

use wasm_bindgen::prelude::*;

/// The stable error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// The keystore's password is wrong.
    WrongPassword,
    /// Not a keystore this client can read.
    InvalidKeystore,
    /// Not a valid address of the network (checksum, prefix).
    InvalidAddress,
    /// An amount, fee or nonce that is not a whole number of base units in range.
    InvalidAmount,
    /// No peer could be reached or asked.
    NoPeers,
    /// The block, transaction or header is not known.
    NotFound,
    /// A peer's answer did not verify against the verified headers.
    VerificationFailed,
    /// The network or the node refused it.
    Rejected,
    /// It took too long.
    Timeout,
    /// A bad argument that is none of the above (unknown network, bad hash).
    InvalidArgument,
    /// The browser failed at something it should do (WebCrypto, IndexedDB).
    Internal,
}

/// An error for JS: a code and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientError {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
}

impl ClientError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A failure of a browser API, with what JS said.
    pub(crate) fn internal(what: &str, error: &JsValue) -> Self {
        Self::new(ErrorCode::Internal, format!("{what}: {}", describe(error)))
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", code_text(self.code), self.message)
    }
}

fn code_text(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::WrongPassword => "WRONG_PASSWORD",
        ErrorCode::InvalidKeystore => "INVALID_KEYSTORE",
        ErrorCode::InvalidAddress => "INVALID_ADDRESS",
        ErrorCode::InvalidAmount => "INVALID_AMOUNT",
        ErrorCode::NoPeers => "NO_PEERS",
        ErrorCode::NotFound => "NOT_FOUND",
        ErrorCode::VerificationFailed => "VERIFICATION_FAILED",
        ErrorCode::Rejected => "REJECTED",
        ErrorCode::Timeout => "TIMEOUT",
        ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
        ErrorCode::Internal => "INTERNAL",
    }
}

/// The text of a thrown JS value.
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

impl From<ClientError> for JsValue {
    fn from(error: ClientError) -> JsValue {
        let js_error = js_sys::Error::new(&error.message);
        js_error.set_name("BlockchainError");
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(
            &js_error,
            &JsValue::from_str("code"),
            &JsValue::from_str(code_text(error.code)),
        );
        js_error.into()
    }
}

/// `Result` of the crate's fallible operations.
pub(crate) type Result<T, E = ClientError> = core::result::Result<T, E>;
