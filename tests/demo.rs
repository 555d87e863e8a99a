//! The README's first command: `kakehashi demo` plays the whole shift against the in-process
//! simulators and fails if any scenario ends in a state it did not intend, or if a
//! simulator's balances disagree with the switch's books.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shift_ends_as_intended_and_the_books_agree() {
    kakehashi::demo::run(kakehashi::demo::Layout::Narrow)
        .await
        .expect("every scenario as intended, every balance reconciled");
}
