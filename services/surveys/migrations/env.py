from services.common.migrations_env import run
from services.surveys.models import Base

run(Base.metadata)
