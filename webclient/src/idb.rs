//! The IndexedDB calls the light client needs, as futures: open a database
//! (creating its object stores), read one value, read a key range, write
//! many values in one transaction.

use js_sys::{Array, Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbDatabase, IdbKeyRange, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

use crate::error::{ClientError, Result};
use crate::js::{await_promise, get};

/// A promise settled by a request's `success` or `error` event.
fn request_promise(request: &IdbRequest) -> Promise {
    let request = request.clone();
    Promise::new(&mut |resolve: Function, reject: Function| {
        let done = request.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &done.result().unwrap_or(JsValue::UNDEFINED));
        });
        let failed = request.clone();
        let on_error = Closure::once_into_js(move || {
            let error = failed
                .error()
                .ok()
                .flatten()
                .map_or(JsValue::from_str("IndexedDB request failed"), JsValue::from);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    })
}

/// A promise settled when a transaction commits or fails.
fn transaction_promise(transaction: &web_sys::IdbTransaction) -> Promise {
    let transaction = transaction.clone();
    Promise::new(&mut |resolve: Function, reject: Function| {
        let on_complete = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let on_error = Closure::once_into_js(move |event: JsValue| {
            let _ = reject.call1(&JsValue::NULL, &event);
        });
        transaction.set_oncomplete(Some(on_complete.unchecked_ref()));
        transaction.set_onerror(Some(on_error.unchecked_ref()));
        transaction.set_onabort(Some(on_error.unchecked_ref()));
    })
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
        let factory = get(&js_sys::global(), "indexedDB");
        let factory: web_sys::IdbFactory = factory
            .dyn_into()
            .map_err(|value| ClientError::internal("this browser has no IndexedDB", &value))?;
        let request: IdbOpenDbRequest = factory
            .open_with_u32(name, 1)
            .map_err(|error| ClientError::internal("indexedDB.open", &error))?;
        let upgrading = request.clone();
        let on_upgrade = Closure::once_into_js(move || {
            if let Ok(result) = upgrading.result()
                && let Ok(db) = result.dyn_into::<IdbDatabase>()
            {
                for store in stores {
                    if !db.object_store_names().contains(store) {
                        let _ = db.create_object_store(store);
                    }
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let db = await_promise(request_promise(&request), "indexedDB.open").await?;
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

    /// Writes every `(key, value)` in one transaction; resolves when it commits.
    pub(crate) async fn put_all(&self, store: &str, entries: &[(JsValue, JsValue)]) -> Result<()> {
        let (transaction, store) = self.store(store, IdbTransactionMode::Readwrite)?;
        for (key, value) in entries {
            store
                .put_with_key(value, key)
                .map_err(|error| ClientError::internal("IndexedDB put", &error))?;
        }
        await_promise(transaction_promise(&transaction), "IndexedDB commit").await?;
        Ok(())
    }

    /// Deletes keys `lower..=upper`.
    pub(crate) async fn delete_range(&self, store: &str, lower: f64, upper: f64) -> Result<()> {
        let (transaction, store) = self.store(store, IdbTransactionMode::Readwrite)?;
        let range = IdbKeyRange::bound(&lower.into(), &upper.into())
            .map_err(|error| ClientError::internal("IDBKeyRange", &error))?;
        store
            .delete(&range)
            .map_err(|error| ClientError::internal("IndexedDB delete", &error))?;
        await_promise(transaction_promise(&transaction), "IndexedDB commit").await?;
        Ok(())
    }
}
