//! The page's components, top-down: [`App`] reads the address bar and holds the shared layout;
//! [`Playground`] (the Dream), [`AskDemo`], [`PlanDemo`] and [`ExplainDemo`] are the demos, and each of the
//! others shows one part of one.

mod app;
mod ask_demo;
mod caption_log;
mod dream_panel;
mod explain_demo;
mod model_box;
mod model_view;
mod notices;
mod plan_view;
mod playground;
mod prompt_field;
mod readout;
mod results_panel;
mod seed_field;
mod transport;
mod world_view;

pub use app::App;
pub use ask_demo::AskDemo;
pub use caption_log::CaptionLog;
pub use dream_panel::DreamPanel;
pub use explain_demo::ExplainDemo;
pub use model_box::ModelBox;
pub use model_view::ModelView;
pub use notices::Notices;
pub use plan_view::PlanDemo;
pub use playground::Playground;
pub use prompt_field::PromptField;
pub use readout::Readout;
pub use results_panel::ResultsPanel;
pub use seed_field::SeedField;
pub use transport::Transport;
pub use world_view::WorldView;
