//! The delegate's workspace over HTTP: the local API of a real `entente up` (`api`), and the web
//! UI in a real headless Chromium (`browser`).

mod api;
mod browser;
