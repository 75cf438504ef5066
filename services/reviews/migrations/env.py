from services.common.migrations_env import run
from services.reviews.models import Base

run(Base.metadata)
