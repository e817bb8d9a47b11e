// IndexedDB events as promises, for idb.rs: the callbacks stay in JS, so no
// Rust closure is handed to an event that may fire more than once or late.

export function openDatabase (name, stores) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1)
    request.onupgradeneeded = () => {
      for (const store of stores) {
        if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store)
      }
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error('indexedDB.open failed'))
    request.onblocked = () => reject(new Error('indexedDB.open blocked by another tab'))
  })
}

export function requestDone (request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'))
  })
}

export function transactionDone (transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve()
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'))
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'))
  })
}

export function deleteDatabase (name) {
  try {
    const request = indexedDB.deleteDatabase(name)
    request.onerror = () => {}
    request.onblocked = () => {}
  } catch (_) {}
}
