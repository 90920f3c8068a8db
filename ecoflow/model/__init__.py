"""Flow-matching models: the velocity network, the linear path and its loss, a closed form."""

from ecoflow.model.flow import Flow, FlowMatchingModel, flow_matching_loss, linear_path
from ecoflow.model.gaussian import GaussianFlow, gaussian_trajectory, gaussian_velocity
from ecoflow.model.velocity import VelocityNetwork

__all__ = [
    "Flow",
    "FlowMatchingModel",
    "GaussianFlow",
    "VelocityNetwork",
    "flow_matching_loss",
    "gaussian_trajectory",
    "gaussian_velocity",
    "linear_path",
]
