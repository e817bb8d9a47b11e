//! `BLOCKCHAIN_SKIP_POSTGRES=1` at build time sets the `skip_postgres` cfg:
//! [`on_postgres!`](src/backends.rs) then marks every PostgreSQL test
//! `#[ignore]`, in whichever crate it is used, so a run without PostgreSQL
//! reports those tests as ignored, never as passed. Cargo rebuilds this
//! crate, and so every test that uses it, when the variable changes.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(skip_postgres)");
    println!("cargo::rerun-if-env-changed=BLOCKCHAIN_SKIP_POSTGRES");
    if std::env::var("BLOCKCHAIN_SKIP_POSTGRES").is_ok_and(|value| value == "1") {
        println!("cargo::rustc-cfg=skip_postgres");
    }
}
