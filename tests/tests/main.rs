//! Integration tests with real node processes (one test binary, see STYLE.md).

mod support;

mod crash;
mod rest_end_to_end;
