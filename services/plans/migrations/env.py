from services.common.migrations_env import run
from services.plans.models import Base

run(Base.metadata)
