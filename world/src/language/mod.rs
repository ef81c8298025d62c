//! Language generated from the simulator's ground truth: a closed vocabulary and tokenizer
//! shared by training and the browser, captions, questions with answers, and scene prompts.

pub mod caption;
pub mod names;
pub mod prompt;
pub mod qa;
pub mod question;
pub mod vocab;
