//! Building a step's request, PATCH and expectation from its templates and the captured values.

use serde_json::{Map, Value};

use crate::http::OutRequest;
use crate::scenario::Dialect;
use crate::scenario::model::{Expect, PatchSpec, RequestSpec};
use crate::scenario::template::{Context, TemplateError};
use crate::scim::dialect::{NeutralPatch, render};

use super::Runner;
use super::step::StepRun;

impl Runner {
    pub(super) fn context<'a>(
        &'a self,
        vars: &'a Map<String, Value>,
        dialect: Dialect,
    ) -> Context<'a> {
        Context {
            vars,
            generators: &self.generators,
            dialect,
            base_url: &self.client.target().base,
        }
    }

    pub(super) fn build_request(
        &self,
        run: &StepRun<'_>,
        req: &RequestSpec,
    ) -> Result<OutRequest, TemplateError> {
        let cx = self.context(&run.vars, run.item.dialect);
        Ok(OutRequest {
            method: req.method.to_ascii_uppercase(),
            path: cx.render_text(&req.path)?,
            query: req
                .query
                .iter()
                .map(|(k, v)| Ok((k.clone(), text(&cx.render_value(v)?))))
                .collect::<Result<_, TemplateError>>()?,
            headers: req
                .headers
                .iter()
                .map(|(k, v)| Ok((k.clone(), text(&cx.render_value(v)?))))
                .collect::<Result<_, TemplateError>>()?,
            body: req.body.as_ref().map(|b| cx.render_value(b)).transpose()?,
            auth: req.auth,
        })
    }

    pub(super) fn build_patch(
        &self,
        run: &StepRun<'_>,
        p: &PatchSpec,
    ) -> Result<OutRequest, TemplateError> {
        let cx = self.context(&run.vars, run.item.dialect);
        let map = |m: &Map<String, Value>| match cx.render_value(&Value::Object(m.clone()))? {
            Value::Object(o) => Ok(o),
            _ => Ok(Map::new()),
        };
        let list = |l: &Vec<Value>| match cx.render_value(&Value::Array(l.clone()))? {
            Value::Array(a) => Ok::<_, TemplateError>(a),
            _ => Ok(vec![]),
        };
        let neutral = NeutralPatch {
            set: map(&p.set)?,
            add: map(&p.add)?,
            remove: p
                .remove
                .iter()
                .map(|r| cx.render_text(r))
                .collect::<Result<_, _>>()?,
            add_members: list(&p.add_members)?,
            remove_members: list(&p.remove_members)?,
            ops: list(&p.ops)?,
        };
        let mut req = OutRequest::new("PATCH", cx.render_text(&p.resource)?);
        req.body = Some(render(&neutral, run.item.dialect));
        Ok(req)
    }

    pub(super) fn render_expect(
        &self,
        run: &StepRun<'_>,
        e: &Expect,
    ) -> Result<Expect, TemplateError> {
        let cx = self.context(&run.vars, run.item.dialect);
        let mut out = e.clone();
        out.body = e.body.as_ref().map(|b| cx.render_value(b)).transpose()?;
        if let Value::Object(h) = cx.render_value(&Value::Object(e.headers.clone()))? {
            out.headers = h;
        }
        for a in &mut out.assert {
            let a = &mut a.value;
            for v in [
                &mut a.equals,
                &mut a.contains,
                &mut a.not_contains,
                &mut a.disjoint,
            ]
            .into_iter()
            .flatten()
            {
                *v = cx.render_value(v)?;
            }
            if let Some(f) = &mut a.all_match {
                f.value = cx.render_text(&f.value)?;
            }
            if let Some(list) = &mut a.one_of {
                // `one_of: ["{{ ids }}"]` with a captured array means any of those ids.
                let mut flat = Vec::with_capacity(list.len());
                for v in list.iter() {
                    match cx.render_value(v)? {
                        Value::Array(items) => flat.extend(items),
                        other => flat.push(other),
                    }
                }
                *list = flat;
            }
        }
        Ok(out)
    }
}

pub(super) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
