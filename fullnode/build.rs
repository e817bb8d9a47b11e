//! `BLOCKCHAIN_SKIP_POSTGRES=1` at build time sets the `skip_postgres` cfg,
//! which marks the PostgreSQL variants of the storage and API tests
//! `#[ignore]`: a run without PostgreSQL reports them as ignored, never as
//! passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(skip_postgres)");
    println!("cargo::rerun-if-env-changed=BLOCKCHAIN_SKIP_POSTGRES");
    if std::env::var("BLOCKCHAIN_SKIP_POSTGRES").is_ok_and(|value| value == "1") {
        println!("cargo::rustc-cfg=skip_postgres");
    }
}
