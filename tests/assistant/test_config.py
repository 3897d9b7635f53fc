"""AssistantConfig: one declaration per default, every bad value a ConfigError naming the field."""

import pytest

from assistant.config import AssistantConfig
from rxassist.adapters import ADAPTER_NAME_RE
from rxassist.errors import ConfigError

BASE = {"model_base_url": "http://127.0.0.1:8001/v1/", "base_model": "smollm2"}


def test_defaults_and_normalisation():
    c = AssistantConfig(**BASE, adapters=["a", "a", "b"], default_adapter="b")
    assert c.model_base_url == "http://127.0.0.1:8001/v1" and c.adapters == ["a", "b"]
    assert (c.max_tokens, c.temperature, c.request_timeout_s, c.api_key) == (96, 0.0, 120, "EMPTY")
    assert AssistantConfig.model_fields["max_tokens"].description


@pytest.mark.parametrize("kwargs, param", [
    ({"max_tokens": 8}, "max_tokens"), ({"max_tokens": 1.5}, "max_tokens"),
    ({"temperature": 3}, "temperature"), ({"adapters": ["x" * 65]}, "adapters"),
    ({"adapters": "ok"}, "adapters"), ({"nonsense": 1}, "nonsense"),
])
def test_bad_values_name_the_field(kwargs, param):
    with pytest.raises(ConfigError) as e:
        AssistantConfig(**BASE, **kwargs)
    assert e.value.param == param and str(e.value).startswith(param)


def test_adapter_names_agree_with_serving_and_finetune():
    from finetune import install
    from serving import adapters
    assert adapters._NAME is ADAPTER_NAME_RE and install._NAME is ADAPTER_NAME_RE
    AssistantConfig(**BASE, adapters=["x" * 64])
