"""The model: a scenario as campaigns, pools, rows and a goal, compiled into sparse arrays."""

from optimizer.model.compile import CompiledModel, compile_model
from optimizer.model.evaluate import Evaluation, evaluate
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation, Goal, PoolModel, RowSpec
from optimizer.model.rows import formulate

__all__ = [
    "CompiledModel",
    "Evaluation",
    "Expr",
    "Formulation",
    "Goal",
    "PoolModel",
    "RowSpec",
    "compile_model",
    "evaluate",
    "formulate",
]
