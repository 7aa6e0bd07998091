"""Spec sections for the API server: backend (Deployment, HPA, Ingress, PDB) and ai."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import (
    DNS_SUBDOMAIN_PATTERN,
    ApiModel,
    ResourceRequirements,
    SecretKeySelector,
    cel,
    default_resources,
    requests_within_limits_rules,
    validated,
)


class BackendResources(ResourceRequirements):
    """CPU and memory of the backend container. Requests must not exceed limits."""

    model_config = requests_within_limits_rules("backend")


class Autoscaling(ApiModel):
    """HorizontalPodAutoscaler (autoscaling/v2) for the backend, on CPU and memory."""

    model_config = validated(
        cel(
            "self.minReplicas <= self.maxReplicas",
            "backend.autoscaling.minReplicas must be less than or equal to maxReplicas",
            ".minReplicas",
        )
    )

    enabled: bool = Field(
        False,
        description="Create an HPA. While enabled the HPA owns the replica count and "
        "backend.replicas is only the starting point.",
    )
    min_replicas: int = Field(2, ge=1, le=100, description="Lowest replica count the HPA keeps.")
    max_replicas: int = Field(10, ge=1, le=100, description="Highest replica count the HPA uses.")
    target_cpu_utilization_percentage: int = Field(
        70,
        ge=1,
        le=100,
        alias="targetCPUUtilizationPercentage",
        description="Average CPU use, as a percentage of the CPU request, the HPA aims for.",
    )
    target_memory_utilization_percentage: int = Field(
        80,
        ge=1,
        le=100,
        alias="targetMemoryUtilizationPercentage",
        description="Average memory use, as a percentage of the memory request, the HPA aims for.",
    )


class Ingress(ApiModel):
    """Expose the backend API through an Ingress. Leave the section out for no Ingress."""

    model_config = validated(
        cel(
            "!has(self.tlsSecretName) || has(self.host)",
            "backend.ingress.tlsSecretName requires backend.ingress.host",
            ".tlsSecretName",
        )
    )

    host: str | None = Field(
        None,
        max_length=253,
        pattern=DNS_SUBDOMAIN_PATTERN,
        description="Host name the API is served on, e.g. api.example.com. Empty: any host.",
    )
    class_name: str | None = Field(
        None,
        max_length=253,
        pattern=DNS_SUBDOMAIN_PATTERN,
        description="IngressClass to use. Empty: the cluster's default class.",
    )
    tls_secret_name: str | None = Field(
        None,
        max_length=253,
        pattern=DNS_SUBDOMAIN_PATTERN,
        description="Secret with the TLS certificate for host (type kubernetes.io/tls). "
        "Requires host.",
    )
    annotations: dict[str, str] = Field(
        default_factory=dict,
        max_length=32,
        description="Extra annotations for the Ingress, e.g. for cert-manager.",
    )


class PodDisruptionBudget(ApiModel):
    """Limits voluntary disruption (drains, upgrades) of backend pods."""

    model_config = validated(
        cel(
            "!(has(self.minAvailable) && has(self.maxUnavailable))",
            "backend.podDisruptionBudget: set at most one of minAvailable and maxUnavailable",
        )
    )

    enabled: bool = Field(True, description="Create a PodDisruptionBudget for the backend.")
    min_available: int | None = Field(
        None,
        ge=0,
        le=100,
        description="Pods that must stay available. Exclusive with maxUnavailable.",
    )
    max_unavailable: int | None = Field(
        None,
        ge=0,
        le=100,
        description="Pods that may be down at once. Default when neither is set: 1.",
    )


class Backend(ApiModel):
    """The TCC Log API server (FastAPI): Deployment, Service, ConfigMap, Secret, HPA, PDB."""

    model_config = validated(
        cel(
            "!self.autoscaling.enabled || "
            "(self.replicas >= self.autoscaling.minReplicas && "
            "self.replicas <= self.autoscaling.maxReplicas)",
            "backend.replicas must be between autoscaling.minReplicas and "
            "autoscaling.maxReplicas when autoscaling is enabled",
            ".replicas",
        ),
        cel(
            "!self.autoscaling.enabled || (has(self.resources.requests) && "
            "has(self.resources.requests.cpu) && has(self.resources.requests.memory))",
            "backend.resources.requests.cpu and memory are required when autoscaling is "
            "enabled (utilization is measured against requests)",
            ".resources",
        ),
    )

    replicas: int = Field(
        2, ge=0, le=100, description="Number of API pods (the starting point when autoscaling)."
    )
    resources: BackendResources = default_resources(BackendResources, "100m", "256Mi", "512Mi")
    autoscaling: Autoscaling = Field(
        default_factory=Autoscaling, description="Horizontal autoscaling on CPU and memory."
    )
    ingress: Ingress | None = Field(None, description="Optional Ingress in front of the API.")
    pod_disruption_budget: PodDisruptionBudget = Field(
        default_factory=PodDisruptionBudget, description="PodDisruptionBudget for the API pods."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the API server."
    )


class Ai(ApiModel):
    """The AI assistant's OpenAI-compatible endpoint (LM Studio by default)."""

    base_url: str = Field(
        alias="baseURL",
        min_length=1,
        max_length=2048,
        description="Base URL of an OpenAI-compatible API, e.g. http://lm-studio.ai.svc:1234/v1.",
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "isURL(self) && url(self).getScheme() in ['http', 'https']",
                    "ai.baseURL must be an http:// or https:// URL",
                )
            ]
        },
    )
    model: str = Field(
        "qwen2.5-7b-instruct", min_length=1, max_length=253, description="Model name to ask for."
    )
    api_key_secret_ref: SecretKeySelector | None = Field(
        None, description="Secret key holding the API key. Empty: no key is sent."
    )
    request_timeout_seconds: int = Field(
        60, ge=1, le=600, description="Timeout for one request to the AI endpoint."
    )
