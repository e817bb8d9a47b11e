//! The IndexedDB calls the light client needs, as futures: open a database
//! (creating its object stores), read one value, read a key range, write
//! many values in one transaction. The event callbacks live in js/idb.js, so
//! no Rust closure is handed to an event that may fire twice or late.

use js_sys::{Array, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbDatabase, IdbKeyRange, IdbRequest, IdbTransactionMode};

use crate::error::{ClientError, Result};
use crate::js::{await_promise, get};

#[wasm_bindgen(module = "/js/idb.js")]
extern "C" {
    /// Opens (creating the stores on first use) a database: resolves with it.
    #[wasm_bindgen(js_name = openDatabase)]
    fn open_database(name: &str, stores: Array) -> Promise;
    /// Resolves with a request's result, rejects with its error.
    #[wasm_bindgen(js_name = requestDone)]
    fn request_promise(request: &IdbRequest) -> Promise;
    /// Resolves when a transaction commits, rejects when it fails or aborts.
    #[wasm_bindgen(js_name = transactionDone)]
    fn transaction_promise(transaction: &web_sys::IdbTransaction) -> Promise;
    /// Deletes a database in the background (when no other tab holds it).
    #[wasm_bindgen(js_name = deleteDatabase)]
    pub(crate) fn delete_database(name: &str);
}

/// An open database.
#[derive(Clone, Debug)]
pub(crate) struct Database {
    db: IdbDatabase,
}

impl Database {
    /// Opens (and, the first time, creates) `name` with these object stores
    /// (out-of-line keys).
    pub(crate) async fn open(name: &str, stores: &'static [&'static str]) -> Result<Database> {
        if get(&js_sys::global(), "indexedDB").is_undefined() {
            return Err(ClientError::new(
                crate::error::ErrorCode::Internal,
                "this browser has no IndexedDB",
            ));
        }
        let names: Array = stores
            .iter()
            .map(|store| JsValue::from_str(store))
            .collect();
        let db = await_promise(open_database(name, names), "indexedDB.open").await?;
        Ok(Database {
            db: db.unchecked_into(),
        })
    }

    fn store(
        &self,
        name: &str,
        mode: IdbTransactionMode,
    ) -> Result<(web_sys::IdbTransaction, web_sys::IdbObjectStore)> {
        let transaction = self
            .db
            .transaction_with_str_and_mode(name, mode)
            .map_err(|error| ClientError::internal("IndexedDB transaction", &error))?;
        let store = transaction
            .object_store(name)
            .map_err(|error| ClientError::internal("IndexedDB store", &error))?;
        Ok((transaction, store))
    }

    /// The value under `key` (undefined when there is none).
    pub(crate) async fn get(&self, store: &str, key: &JsValue) -> Result<JsValue> {
        let (_, store) = self.store(store, IdbTransactionMode::Readonly)?;
        let request = store
            .get(key)
            .map_err(|error| ClientError::internal("IndexedDB get", &error))?;
        await_promise(request_promise(&request), "IndexedDB get").await
    }

    /// The values of keys `lower..=upper`, in key order.
    pub(crate) async fn get_range(
        &self,
        store: &str,
        lower: f64,
        upper: f64,
    ) -> Result<Vec<JsValue>> {
        let (_, store) = self.store(store, IdbTransactionMode::Readonly)?;
        let range = IdbKeyRange::bound(&lower.into(), &upper.into())
            .map_err(|error| ClientError::internal("IDBKeyRange", &error))?;
        let request = store
            .get_all_with_key(&range)
            .map_err(|error| ClientError::internal("IndexedDB getAll", &error))?;
        let values = await_promise(request_promise(&request), "IndexedDB getAll").await?;
        Ok(Array::from(&values).iter().collect())
    }

    /// Starts one read-write transaction over `stores`: its writes commit
    /// together or not at all.
    pub(crate) fn write(&self, stores: &[&str]) -> Result<Writes> {
        let names: Array = stores
            .iter()
            .map(|store| JsValue::from_str(store))
            .collect();
        let transaction = self
            .db
            .transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)
            .map_err(|error| ClientError::internal("IndexedDB transaction", &error))?;
        Ok(Writes { transaction })
    }
}

/// The writes of one read-write transaction, committed by [`Writes::commit`].
#[derive(Debug)]
pub(crate) struct Writes {
    transaction: web_sys::IdbTransaction,
}

impl Writes {
    fn store(&self, name: &str) -> Result<web_sys::IdbObjectStore> {
        self.transaction
            .object_store(name)
            .map_err(|error| ClientError::internal("IndexedDB store", &error))
    }

    /// Puts `value` under `key` in `store`.
    pub(crate) fn put(&self, store: &str, key: &JsValue, value: &JsValue) -> Result<()> {
        self.store(store)?
            .put_with_key(value, key)
            .map_err(|error| ClientError::internal("IndexedDB put", &error))?;
        Ok(())
    }

    /// Deletes keys `lower..=upper` of `store`.
    pub(crate) fn delete_range(&self, store: &str, lower: f64, upper: f64) -> Result<()> {
        let range = IdbKeyRange::bound(&lower.into(), &upper.into())
            .map_err(|error| ClientError::internal("IDBKeyRange", &error))?;
        self.store(store)?
            .delete(&range)
            .map_err(|error| ClientError::internal("IndexedDB delete", &error))?;
        Ok(())
    }

    /// Resolves when every write has committed.
    pub(crate) async fn commit(self) -> Result<()> {
        await_promise(transaction_promise(&self.transaction), "IndexedDB commit").await?;
        Ok(())
    }
}
