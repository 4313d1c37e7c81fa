//! Scheduled tasks, their runs and templates, and the notifications inbox.

use super::{Client, encode};
use crate::error::ClientError;
use pryx_protocol::api::{
    NotificationList, NotificationsRead, TaskCreated, TaskList, TaskRunList, TaskRunStarted,
    TaskRunView, TaskSpec, TaskTemplate, TaskTemplateList, TaskView,
};
use reqwest::Method;

impl Client {
    /// `GET /tasks`.
    pub async fn tasks(&self) -> Result<Vec<TaskView>, ClientError> {
        let list: TaskList = self
            .call("GET /tasks", self.request(Method::GET, "/tasks"))
            .await?;
        Ok(list.tasks)
    }

    /// `GET /tasks/{id}` (id or name).
    pub async fn task(&self, id: &str) -> Result<TaskView, ClientError> {
        let path = format!("/tasks/{}", encode(id));
        self.call("GET /tasks/{id}", self.request(Method::GET, &path))
            .await
    }

    /// `POST /tasks`.
    pub async fn create_task(&self, spec: &TaskSpec) -> Result<TaskCreated, ClientError> {
        self.call(
            "POST /tasks",
            self.request(Method::POST, "/tasks").json(spec),
        )
        .await
    }

    /// `PUT /tasks/{id}`.
    pub async fn update_task(&self, id: &str, spec: &TaskSpec) -> Result<TaskView, ClientError> {
        let path = format!("/tasks/{}", encode(id));
        self.call(
            "PUT /tasks/{id}",
            self.request(Method::PUT, &path).json(spec),
        )
        .await
    }

    /// `DELETE /tasks/{id}`.
    pub async fn delete_task(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/tasks/{}", encode(id));
        self.call_empty("DELETE /tasks/{id}", self.request(Method::DELETE, &path))
            .await
    }

    /// `POST /tasks/{id}/pause` (`resume: false`) or `/resume`.
    pub async fn set_task_active(&self, id: &str, resume: bool) -> Result<TaskView, ClientError> {
        let action = if resume { "resume" } else { "pause" };
        let path = format!("/tasks/{}/{action}", encode(id));
        self.call(
            "POST /tasks/{id}/pause|resume",
            self.request(Method::POST, &path),
        )
        .await
    }

    /// `POST /tasks/{id}/run`.
    pub async fn run_task(&self, id: &str) -> Result<TaskRunView, ClientError> {
        let path = format!("/tasks/{}/run", encode(id));
        let started: TaskRunStarted = self
            .call("POST /tasks/{id}/run", self.request(Method::POST, &path))
            .await?;
        Ok(started.run)
    }

    /// `GET /tasks/{id}/runs`.
    pub async fn task_runs(&self, id: &str, limit: u32) -> Result<Vec<TaskRunView>, ClientError> {
        let path = format!("/tasks/{}/runs?limit={limit}", encode(id));
        let list: TaskRunList = self
            .call("GET /tasks/{id}/runs", self.request(Method::GET, &path))
            .await?;
        Ok(list.runs)
    }

    /// `GET /tasks/templates`.
    pub async fn task_templates(&self) -> Result<Vec<TaskTemplate>, ClientError> {
        let list: TaskTemplateList = self
            .call(
                "GET /tasks/templates",
                self.request(Method::GET, "/tasks/templates"),
            )
            .await?;
        Ok(list.templates)
    }

    /// `GET /notifications`.
    pub async fn notifications(&self, limit: u32) -> Result<NotificationList, ClientError> {
        let path = format!("/notifications?limit={limit}");
        self.call("GET /notifications", self.request(Method::GET, &path))
            .await
    }

    /// `POST /notifications/read` (all when `ids` is empty).
    pub async fn mark_notifications_read(
        &self,
        ids: &[i64],
    ) -> Result<NotificationList, ClientError> {
        let body = NotificationsRead { ids: ids.to_vec() };
        self.call(
            "POST /notifications/read",
            self.request(Method::POST, "/notifications/read")
                .json(&body),
        )
        .await
    }
}
