//! Small helpers for JS values: plain objects, byte arrays, promises, the
//! clock and the global scope (a window or a worker).

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::{ClientError, ErrorCode, Result};

/// A plain object with these properties.
pub(crate) fn object(properties: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (name, value) in properties {
        // Defining a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object
}

/// A property of a JS object (undefined when missing).
pub(crate) fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A copy of the bytes of an `ArrayBuffer` or typed array.
pub(crate) fn bytes_of(value: &JsValue) -> Vec<u8> {
    Uint8Array::new(value).to_vec()
}

/// A `Uint8Array` holding a copy of `bytes`.
pub(crate) fn uint8_array(bytes: &[u8]) -> Uint8Array {
    Uint8Array::from(bytes)
}

/// Awaits a promise, turning a rejection into an internal error about `what`.
pub(crate) async fn await_promise(promise: js_sys::Promise, what: &str) -> Result<JsValue> {
    JsFuture::from(promise)
        .await
        .map_err(|error| ClientError::internal(what, &error))
}

/// The global scope's `crypto` object (window or worker).
pub(crate) fn global_crypto() -> Result<web_sys::Crypto> {
    let global = js_sys::global();
    let crypto = get(&global, "crypto");
    crypto
        .dyn_into::<web_sys::Crypto>()
        .map_err(|_| ClientError::new(ErrorCode::Internal, "this browser has no crypto object"))
}

/// Milliseconds since the Unix epoch, from the browser's clock.
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A JSON string as a JS value (for returning serde data as plain objects).
pub(crate) fn from_json(text: &str) -> Result<JsValue> {
    js_sys::JSON::parse(text).map_err(|error| ClientError::internal("JSON.parse", &error))
}

/// Lets the browser run other tasks (rendering, input) before going on: a
/// macrotask boundary, not a microtask, so long work split by it never
/// becomes one long task.
pub(crate) async fn yield_to_browser() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// JavaScript's `Number.MAX_SAFE_INTEGER`: every valid amount is below it.
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A whole number of base units from a JS number: an integer in 0..2^53.
pub(crate) fn whole_units(value: &JsValue, field: &str) -> Result<u64> {
    let Some(number) = value.as_f64() else {
        return Err(ClientError::new(
            ErrorCode::InvalidAmount,
            format!("{field} must be a number"),
        ));
    };
    if !(number.is_finite()
        && number.fract() == 0.0
        && (0.0..=MAX_SAFE_INTEGER as f64).contains(&number))
    {
        return Err(ClientError::new(
            ErrorCode::InvalidAmount,
            format!(
                "{field} must be a whole number of base units from 0 to 2^53 - 1, not {number}"
            ),
        ));
    }
    Ok(number as u64)
}
