"""ModuleList, ModuleDict, ParameterList, ParameterDict (and Sequential's new home): torch's
state_dict keys, list and dict semantics, errors, side by side with torch's containers."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from torch_side import assert_docstring_teaches

import npimpl


def keys(m):
    return list(m.state_dict())


def lin(n=2, dtype=np.float32):
    return npimpl.Linear(n, n, dtype=dtype)


# --- ModuleList ----------------------------------------------------------------------------------
def test_modulelist_keys_follow_torch_through_append_extend_insert_del_pop():
    ours = npimpl.ModuleList([lin(), npimpl.ReLU()])
    theirs = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    for op in [lambda l, L: l.append(L(2, 2)), lambda l, L: l.extend([L(2, 2), L(2, 2)]),
               lambda l, L: l.insert(1, L(2, 2)), lambda l, L: l.__delitem__(0),
               lambda l, L: l.pop(-2), lambda l, L: l.__delitem__(slice(0, 2)),
               lambda l, L: l.__iadd__([L(2, 2)])]:
        op(ours, lambda *a: npimpl.Linear(*a))
        op(theirs, nn.Linear)
        assert keys(ours) == list(theirs.state_dict())
        assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
        assert len(ours) == len(theirs)


def test_modulelist_indexing_is_a_list():
    a, b, c = lin(), npimpl.ReLU(), lin()
    ml = npimpl.ModuleList([a, b, c])
    assert ml[0] is a and ml[-1] is c and getattr(ml, "1") is b
    sub = ml[1:]
    assert isinstance(sub, npimpl.ModuleList) and list(sub) == [b, c] and keys(sub) == ["1.weight",
                                                                                          "1.bias"]
    ml[1] = npimpl.Tanh()
    assert isinstance(ml[1], npimpl.Tanh)
    both = ml + npimpl.ModuleList([b])
    assert len(both) == 4 and both[3] is b
    with pytest.raises(IndexError, match="ModuleList: index 3 is out of range for 3 entries"):
        ml[3]
    with pytest.raises(IndexError):
        nn.ModuleList([nn.ReLU()] * 3)[3]


def test_modulelist_insert_past_the_end_appends_where_torch_corrupts_its_numbering():
    ours = npimpl.ModuleList([lin(), lin(), lin()])
    ours.insert(10, npimpl.Tanh())
    assert isinstance(ours[3], npimpl.Tanh) and len(ours) == 4
    theirs = nn.ModuleList([nn.Linear(2, 2)] * 3)
    theirs.insert(10, nn.Tanh())
    assert list(theirs._modules) == ["0", "1", "2", "10"]     # the torch quirk npimpl avoids
    with pytest.raises(KeyError):
        theirs[3]


def test_modulelist_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="ModuleList: element 1 must be an npimpl Module, got str"):
        npimpl.ModuleList([npimpl.ReLU(), "relu"])
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        npimpl.ModuleList().extend(npimpl.ReLU())
    with pytest.raises(NotImplementedError):
        npimpl.ModuleList([npimpl.ReLU()])(np.zeros(2))


def test_a_module_held_in_a_list_trains_evals_and_zero_grads_with_its_owner():
    owner = npimpl.Module()
    owner.layers = npimpl.ModuleList([lin(dtype=np.float64), npimpl.Dropout(0.5)])
    owner.eval()
    assert not owner.layers[1].training
    owner.layers[0](np.ones((1, 2)))
    owner.layers[0].backward(np.ones((1, 2)))
    assert owner.layers[0].weight.grad is not None
    owner.zero_grad()
    assert owner.layers[0].weight.grad is None
    assert [n for n, _ in owner.named_parameters()] == ["layers.0.weight", "layers.0.bias"]


# --- ModuleDict ----------------------------------------------------------------------------------
def test_moduledict_keys_order_and_update_like_torch():
    ours = npimpl.ModuleDict({"b": lin(), "a": npimpl.ReLU()})
    ours.update([("c", lin())])
    ours.update(OrderedDict(d=lin()))
    ours["a"] = lin()
    theirs = nn.ModuleDict({"b": nn.Linear(2, 2), "a": nn.ReLU()})
    theirs.update([("c", nn.Linear(2, 2))])
    theirs.update(OrderedDict(d=nn.Linear(2, 2)))
    theirs["a"] = nn.Linear(2, 2)
    assert list(ours) == list(theirs) == ["b", "a", "c", "d"]  # a plain dict keeps its order
    assert keys(ours) == list(theirs.state_dict())
    assert ours.pop("c") is not None and "c" not in ours and len(ours) == 3
    del ours["b"]
    assert list(ours.keys()) == ["a", "d"] and [k for k, _ in ours.items()] == ["a", "d"]
    ours.clear()
    assert len(ours) == 0


@pytest.mark.parametrize("key,exc,msg", [("train", KeyError, "already an attribute"),
                                         ("a.b", KeyError, "without '.'"),
                                         ("", KeyError, "non-empty"),
                                         (3, TypeError, "must be a string, got int")])
def test_moduledict_refuses_keys_torch_refuses(key, exc, msg):
    with pytest.raises(exc, match=f"ModuleDict: .*{msg}"):
        npimpl.ModuleDict()[key] = npimpl.ReLU()
    with pytest.raises((KeyError, TypeError)):
        nn.ModuleDict()[key] = nn.ReLU()


def test_moduledict_update_refuses_malformed_pairs():
    with pytest.raises(ValueError, match=r"ModuleDict.update: sequence element #0 has length 3"):
        npimpl.ModuleDict().update([("a", npimpl.ReLU(), 1)])
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable"):
        npimpl.ModuleDict().update(3)


# --- ParameterList / ParameterDict -------------------------------------------------------------------
def test_parameterlist_wraps_arrays_and_names_them_like_torch():
    pl = npimpl.ParameterList([np.zeros(2), npimpl.Parameter(np.ones(3))])
    pl.append(np.full(4, 2.0))
    pl += [np.zeros((2, 2))]
    tl = nn.ParameterList([torch.zeros(2), nn.Parameter(torch.ones(3))])
    tl.append(torch.full((4,), 2.0))
    tl += [torch.zeros(2, 2)]
    assert keys(pl) == list(tl.state_dict()) == ["0", "1", "2", "3"]
    assert all(isinstance(p, npimpl.Parameter) for p in pl) and len(pl) == 4
    assert pl[-1].shape == (2, 2) and pl[1:3][0] is pl[1]
    pl[0] = np.full(2, 7.0)
    np.testing.assert_array_equal(pl[0].data, [7.0, 7.0])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="ParameterList: index 4 is out of range"):
        pl[4]
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        pl(np.zeros(2))


def test_parameterdict_sorts_a_plain_dict_like_torch_and_keeps_an_ordered_one():
    pd = npimpl.ParameterDict({"shift": np.zeros(2), "scale": np.ones(2)})
    td = nn.ParameterDict({"shift": torch.zeros(2), "scale": torch.ones(2)})
    assert list(pd) == list(td) == ["scale", "shift"]
    assert keys(pd) == list(td.state_dict())
    od = npimpl.ParameterDict(OrderedDict([("shift", np.zeros(2)), ("scale", np.ones(2))]))
    assert list(od) == ["shift", "scale"]
    pairs = npimpl.ParameterDict([("z", np.zeros(1)), ("a", np.zeros(1))])
    assert list(pairs) == ["z", "a"]


def test_parameterdict_dict_api():
    pd = npimpl.ParameterDict({"a": np.zeros(2)})
    assert pd.setdefault("b", np.ones(3)).shape == (3,) and "b" in pd
    assert pd.get("zz", 5) == 5 and isinstance(pd["a"], npimpl.Parameter)
    k, v = pd.popitem()
    assert k == "b" and v.shape == (3,) and list(pd) == ["a"]
    merged = pd | npimpl.ParameterDict({"c": np.zeros(1)})
    assert list(merged) == ["a", "c"] and list(pd) == ["a"]
    pd |= {"d": np.zeros(1)}
    assert list(pd) == ["a", "d"] and list(reversed(pd)) == ["d", "a"]
    assert list(pd.copy()) == ["a", "d"]
    assert list(pd.fromkeys(["x", "y"], np.zeros(1))) == ["x", "y"]
    del pd["a"]
    assert keys(pd) == ["d"] and pd.pop("d").shape == (1,) and len(pd) == 0
    with pytest.raises(KeyError):
        pd["nope"]
    with pytest.raises(TypeError, match="ParameterDict: a key must be a string, got int"):
        pd[1] = np.zeros(1)


# --- Sequential moved to container.py -------------------------------------------------------------
def test_sequential_lives_in_container_and_the_old_import_still_works():
    from npimpl.container import Sequential
    from npimpl.module import Sequential as Old
    assert Old is Sequential is npimpl.Sequential


def test_delattr_unregisters_like_torch():
    m = npimpl.Linear(2, 2)
    del m.bias
    assert list(m.state_dict()) == ["weight"]
    owner = npimpl.Module()
    owner.child = npimpl.ReLU()
    del owner.child
    assert list(owner.children()) == [] and not hasattr(owner, "child")


@pytest.mark.parametrize("name", ["ModuleList", "ModuleDict", "ParameterList", "ParameterDict"])
def test_docstring_teaches(name):
    assert_docstring_teaches(name)
