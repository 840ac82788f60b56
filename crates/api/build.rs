//! The schema is embedded in the binary (`sqlx::migrate!`): a change to `migrations/` must
//! rebuild it, which Cargo does not know without being told.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
